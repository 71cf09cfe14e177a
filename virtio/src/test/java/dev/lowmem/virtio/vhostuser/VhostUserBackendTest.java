package dev.lowmem.virtio.vhostuser;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import dev.lowmem.vmm.core.event.EventLoop;
import dev.lowmem.vmm.core.socket.UnixServerSocket;
import dev.lowmem.vmm.core.testing.ProcSelf;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Our front-end against our back-end over a real UNIX socket, with an echo device behind it. */
@Timeout(60)
class VhostUserBackendTest {
    private static final long SPLIT = Features.of(Feature.VERSION_1);
    private static final long SPLIT_EVENT_IDX = Features.of(Feature.VERSION_1, Feature.RING_EVENT_IDX);
    private static final long PACKED = Features.of(Feature.VERSION_1, Feature.RING_PACKED);
    private static final long PACKED_EVENT_IDX = Features.of(Feature.VERSION_1, Feature.RING_PACKED, Feature.RING_EVENT_IDX);

    @TempDir
    Path directory;
    private BackendFixture backend;

    @BeforeEach
    void listen() throws Exception {
        backend = BackendFixture.listen(directory);
    }

    @AfterEach
    void close() throws Exception {
        backend.close();
    }

    static Stream<Arguments> layouts() {
        return Stream.of(Arguments.of("split", SPLIT, 1), Arguments.of("split, EVENT_IDX", SPLIT_EVENT_IDX, 2),
                Arguments.of("packed", PACKED, 2), Arguments.of("packed, EVENT_IDX", PACKED_EVENT_IDX, 4));
    }

    @ParameterizedTest(name = "{0}, {2} regions")
    @MethodSource("layouts")
    void echoesEveryFrameByteForByteAfterAFullNegotiation(String name, long features, int regions) throws Exception {
        try (EchoDriver driver = EchoDriver.create("vu-echo", features)) {
            driver.connect(backend.socket, regions);
            for (int round = 0; round < 40; round++) {
                driver.roundTrip(1 + round % 64);
            }
            assertEquals(features, backend.device.ackedFeatures(), "the device got the driver's features, the protocol bit aside");
            assertEquals(40 * 41 / 2, backend.device.echoed(), "frames echoed: 1 + 2 + ... + 40");
        }
    }

    @Test
    void configSpaceStatusAndLimitsAnswerAsTheSpecSays() throws Exception {
        try (EchoDriver driver = EchoDriver.create("vu-config", SPLIT)) {
            VhostUserFrontend frontend = driver.connect(backend.socket, 1);
            assertArrayEquals(new byte[] {0x52, 0x54, 0, 0x12, 0x34, 0x56, 0x7f, 0x7f}, frontend.getConfig(0, 8));
            frontend.setConfig(2, 0, new byte[] {1, 2});
            assertArrayEquals(new byte[] {0x52, 0x54, 1, 2}, frontend.getConfig(0, 4));
            VhostUserException readOnly = assertThrows(VhostUserException.class,
                    () -> frontend.setConfig(6, 0, new byte[] {0}));
            assertTrue(readOnly.getMessage().contains("SET_CONFIG"), readOnly.getMessage());
            assertThrows(VhostUserException.class, () -> frontend.getConfig(4, 8), "an empty GET_CONFIG reply is an error");
            frontend.setStatus(0x0f);
            assertEquals(0x0f, frontend.getStatus());
            assertEquals(509, frontend.getMaxMemSlots(), "VHOST_USER_MAX_RAM_SLOTS");
            assertEquals(2, frontend.getQueueNum());
            driver.roundTrip(8);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layouts")
    void ringsResumeFromTheBaseTheFrontendSendsAfterAReconnect(String name, long features, int regions) throws Exception {
        try (EchoDriver driver = EchoDriver.create("vu-resume", features)) {
            driver.connect(backend.socket, regions);
            for (int round = 0; round < 5; round++) {
                driver.roundTrip(60);
            }
            driver.stopAndDisconnect();
            int position = 300 % EchoDriver.QUEUE_SIZE;
            int expected = features == SPLIT || features == SPLIT_EVENT_IDX ? 300
                    : packedBase(position, 300 / EchoDriver.QUEUE_SIZE % 2 == 0);
            assertEquals(expected, driver.base(EchoDevice.RX), "RX ring base");
            assertEquals(expected, driver.base(EchoDevice.TX), "TX ring base");

            driver.connect(backend.socket, regions);
            for (int round = 0; round < 5; round++) {
                driver.roundTrip(60);
            }
            assertEquals(600, backend.device.echoed());
        }
    }

    /** vhost-user's packed ring base: the avail and used halves, each a slot with its wrap counter in bit 15. */
    private static int packedBase(int slot, boolean wrap) {
        int half = slot | (wrap ? 0x8000 : 0);
        return half | half << 16;
    }

    /**
     * QEMU keeps a vhost device per queue pair on one connection; each sends SET_FEATURES as it
     * starts, while the rings of the pairs before it run. Refusing the repeat closed the session
     * and left a multiqueue guest with no network at all; a changed set is still refused.
     */
    @Test
    void theSameFeaturesAgainWhileRingsRunAreAcceptedAndAChangeIsRefused() throws Exception {
        try (EchoDriver driver = EchoDriver.create("vu-features-again", SPLIT_EVENT_IDX)) {
            VhostUserFrontend frontend = driver.connect(backend.socket, 1);
            long protocol = Feature.VHOST_USER_PROTOCOL_FEATURES.mask();
            driver.roundTrip(4);
            frontend.setFeatures(SPLIT_EVENT_IDX | protocol);
            driver.roundTrip(4);
            VhostUserException changed = assertThrows(VhostUserException.class,
                    () -> frontend.setFeatures(SPLIT | protocol));
            assertTrue(changed.getMessage().contains("SET_FEATURES"), changed.getMessage());
            driver.roundTrip(4);
            assertEquals(SPLIT_EVENT_IDX, backend.device.ackedFeatures());
        }
    }

    @Test
    void aSecondFrontendIsRefusedAndTheFirstGoesOn() throws Exception {
        try (EchoDriver driver = EchoDriver.create("vu-first", SPLIT_EVENT_IDX)) {
            driver.connect(backend.socket, 1);
            driver.roundTrip(10);
            try (VhostUserFrontend second = VhostUserFrontend.connect(backend.socket, Duration.ofSeconds(5))) {
                VhostUserException refused = assertThrows(VhostUserException.class, second::getFeatures);
                assertTrue(refused.getMessage().contains("one front-end at a time"), refused.getMessage());
            }
            driver.roundTrip(10);
            assertEquals(20, backend.device.echoed());
        }
    }

    @Test
    void theSocketFileIsOwnerOnly() throws Exception {
        assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(backend.socket));
    }

    @Test
    void aFrontendGoneMidTrafficLeavesNoDescriptorOrMappingBehind() throws Exception {
        try (EchoDriver driver = EchoDriver.create("vu-gone", SPLIT_EVENT_IDX)) {
            long fds = ProcSelf.openFdCount();
            long mappings = ProcSelf.mappingsOf("vu-gone");
            driver.connect(backend.socket, 4);
            driver.roundTrip(20);
            assertEquals(mappings + 4, ProcSelf.mappingsOf("vu-gone"), "the back-end maps each region");
            byte[][] inFlight = new byte[100][];
            for (int i = 0; i < inFlight.length; i++) {
                inFlight[i] = EchoDriver.frame(1000 + i);
            }
            driver.post(inFlight);
            driver.disconnect();
            BackendFixture.awaitReleased(fds, "vu-gone", mappings);
            assertTrue(!backend.device.running(EchoDevice.RX) && !backend.device.running(EchoDevice.TX), "rings stopped");
        }
        try (EchoDriver next = EchoDriver.create("vu-next", PACKED_EVENT_IDX)) {
            next.connect(backend.socket, 2);
            next.roundTrip(30);
        }
    }

    @Test
    void inConnectModeTheBackendComesBackAfterTheFrontendGoes() throws Exception {
        Path path = directory.resolve("frontend.sock");
        try (UnixServerSocket frontendSide = UnixServerSocket.listen(path);
                EventLoop loop = EventLoop.start("vhost-user-connect-test");
                EchoDevice device = new EchoDevice();
                VhostUserBackend connecting = VhostUserBackend.connect(path, Duration.ofMillis(20), device, loop);
                EchoDriver driver = EchoDriver.create("vu-connect", SPLIT_EVENT_IDX)) {
            driver.setUp(VhostUserFrontend.over(frontendSide.accept()), 1);
            driver.roundTrip(25);
            driver.stopAndDisconnect();
            driver.setUp(VhostUserFrontend.over(frontendSide.accept()), 2);
            driver.roundTrip(25);
            assertEquals(50, device.echoed());
        }
    }
}
