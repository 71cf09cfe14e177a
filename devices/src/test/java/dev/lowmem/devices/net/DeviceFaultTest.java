package dev.lowmem.devices.net;

import static dev.lowmem.devices.net.LoopbackDeviceTest.packet;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.devices.port.LoopbackPort;
import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import dev.lowmem.virtio.vhostuser.FrontendMemory;
import dev.lowmem.virtio.vhostuser.MessageChannel;
import dev.lowmem.virtio.vhostuser.ProtocolFeature;
import dev.lowmem.virtio.vhostuser.VhostUserFrontend;
import dev.lowmem.virtio.vhostuser.VhostUserHeader;
import dev.lowmem.virtio.vhostuser.VhostUserMessage;
import dev.lowmem.virtio.vhostuser.VhostUserException;
import dev.lowmem.vmm.core.event.EventFd;
import dev.lowmem.vmm.core.nativeio.Errno;
import dev.lowmem.vmm.core.nativeio.LibC;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * What one front-end does wrong stays with its session: the device over a real vhost-user socket
 * and memfd memory, with a loopback port, and after each fault or reset a later session whose
 * frames must move (docs/ARCHITECTURE.md, "Faults in the datapath" and "A reset forgets").
 */
@Timeout(60)
class DeviceFaultTest {
    private static final long FEATURES = Features.of(Feature.VERSION_1, Feature.NET_MRG_RXBUF, Feature.RING_EVENT_IDX);
    private static final int TX_QUEUE = 1;
    /** VHOST_USER_BACKEND_CONFIG_CHANGE_MSG, a back-end message type. */
    private static final int CONFIG_CHANGE_MSG = 2;
    /** DEVICE_NEEDS_RESET in the device status (virtio 1.2, 2.1). */
    private static final long NEEDS_RESET = 0x40;

    @TempDir
    Path dir;

    /**
     * A front-end whose memfd cannot be sealed cuts it to nothing under running rings: the next
     * access raises SIGBUS, which the JVM throws as an InternalError. Before, that ended the
     * pair's worker thread, and no later session moved a frame.
     */
    @Test
    void guestMemoryCutShortStopsTheQueueAndTheWorkerServesTheNextSession() throws Exception {
        try (NetBackend backend = new NetBackend(dir, new LoopbackPort(1))) {
            QueuePairCounters counters = backend.counters();
            try (NetDriver driver = NetDriver.connect(backend.socket, FEATURES, FrontendMemory::createUnsealable);
                    EventFd err = EventFd.create()) {
                driver.frontend().setVringErr(TX_QUEUE, err);
                roundTrip(driver, 0);
                long sent = counters.get(NetCounter.TX_FRAMES);

                assertEquals(0, LibC.ftruncate(driver.memoryFd().intValue(), 0), "an unsealed memfd shrinks");
                driver.kickTx();

                Eventually.equals(1, () -> counters.get(NetCounter.TX_FAULTS));
                Eventually.equals(1, err::read);
                assertNotEquals(0, driver.frontend().getStatus() & NEEDS_RESET, "GET_STATUS says DEVICE_NEEDS_RESET");
                assertEquals(sent, counters.get(NetCounter.TX_FRAMES), "nothing reached the port");
                assertEquals(0, backend.device.pair(0).port().backlog());
            }
            try (NetDriver next = NetDriver.connect(backend.socket, FEATURES)) {
                roundTrip(next, 1);
                assertEquals(0, next.frontend().getStatus() & NEEDS_RESET, "a new session starts clean");
            }
            assertEquals(1, counters.get(NetCounter.TX_FAULTS));
            assertEquals(0, counters.get(NetCounter.WORKER_ERRORS));
        }
    }

    /**
     * A guest that breaks its ring (avail idx too far ahead) leaves the queue no sound position:
     * it stops, the driver is told through the err eventfd and DEVICE_NEEDS_RESET, nothing reaches
     * the port, and the next driver is served. Before, the queue only stopped, silently.
     */
    @Test
    void aRingTheGuestBrokeStopsItsQueueAndTheDriverIsToldToReset() throws Exception {
        try (NetBackend backend = new NetBackend(dir, new LoopbackPort(1))) {
            QueuePairCounters counters = backend.counters();
            try (NetDriver driver = NetDriver.connect(backend.socket, FEATURES);
                    EventFd err = EventFd.create()) {
                driver.frontend().setVringErr(TX_QUEUE, err);
                roundTrip(driver, 0);
                driver.breakTxRing();

                Eventually.equals(1, () -> counters.get(NetCounter.TX_FAULTS));
                Eventually.equals(1, err::read);
                assertNotEquals(0, driver.frontend().getStatus() & NEEDS_RESET, "GET_STATUS says DEVICE_NEEDS_RESET");
                assertEquals(1, counters.get(NetCounter.TX_FRAMES), "nothing more reached the port");
                driver.frontend().setStatus(0);
                assertEquals(0, driver.frontend().getStatus() & NEEDS_RESET, "the reset clears it");
            }
            try (NetDriver next = NetDriver.connect(backend.socket, FEATURES)) {
                roundTrip(next, 1);
            }
        }
    }

    /**
     * With BACKEND_REQ negotiated, a ring the guest broke is also told on the back-end channel
     * (SET_BACKEND_REQ_FD): VHOST_USER_BACKEND_CONFIG_CHANGE_MSG, asking for an ack as REPLY_ACK
     * is negotiated too. The front-end answers 1, as QEMU does for a net device (no config
     * notifier), and the session goes on. Before, only the err eventfd and GET_STATUS said so.
     */
    @Test
    void aRingTheGuestBrokeIsToldOnTheBackendChannelWithConfigChangeMsg() throws Exception {
        try (NetBackend backend = new NetBackend(dir, new LoopbackPort(1));
                NetDriver driver = NetDriver.connect(backend.socket, FEATURES);
                EventFd err = EventFd.create()) {
            VhostUserFrontend frontend = driver.frontend();
            assertTrue(ProtocolFeature.BACKEND_REQ.in(frontend.getProtocolFeatures()), "BACKEND_REQ on offer");
            frontend.setProtocolFeatures(driver.protocolFeatures() | ProtocolFeature.BACKEND_REQ.mask());
            try (MessageChannel backendRequests = frontend.setBackendReqFd()) {
                backendRequests.socket().fd().setNonBlocking(true);
                frontend.setVringErr(TX_QUEUE, err);
                roundTrip(driver, 0);
                assertNull(backendRequests.read(), "nothing on the channel while the rings are sound");
                driver.breakTxRing();

                Eventually.equals(1, err::read);
                VhostUserMessage message = Eventually.nonNull(backendRequests::read);
                assertEquals(CONFIG_CHANGE_MSG, message.code(), "VHOST_USER_BACKEND_CONFIG_CHANGE_MSG");
                assertEquals(0, message.body().byteSize(), "it has no payload");
                assertTrue(message.needsReply(), "REPLY_ACK is negotiated: it asks for an ack");
                MemorySegment notHandled = MemorySegment.ofArray(new long[] {1});
                backendRequests.send(message.code(), VhostUserHeader.VERSION | VhostUserHeader.REPLY, notHandled);

                assertNotEquals(0, frontend.getStatus() & NEEDS_RESET, "GET_STATUS says DEVICE_NEEDS_RESET");
                frontend.setStatus(0);
                assertEquals(0, frontend.getStatus() & NEEDS_RESET, "the reset clears it");
                assertNull(backendRequests.read(), "one fault, one message");
            }
        }
    }

    /** A memfd made to be sealed, as QEMU's are, is sealed against shrinking when it arrives. */
    @Test
    void aSealableMemfdIsSealedAgainstShrinkingOnArrival() throws Exception {
        try (NetBackend backend = new NetBackend(dir, new LoopbackPort(1));
                NetDriver driver = NetDriver.connect(backend.socket, FEATURES)) {
            assertEquals(-1, LibC.ftruncate(driver.memoryFd().intValue(), 0));
            assertEquals(Errno.EPERM, Errno.last(), "F_SEAL_SHRINK refuses the truncation");
            roundTrip(driver, 0);
            assertEquals(0, backend.counters().get(NetCounter.TX_FAULTS));
        }
    }

    /** The ways a front-end ends what its driver had: each must drop what the device held for it. */
    enum Reset {
        DISCONNECT, RESET_OWNER, STATUS_ZERO, RX_RING_STOPPED;

        void apply(NetDriver driver) throws Exception {
            switch (this) {
                case DISCONNECT -> driver.disconnect();
                case RESET_OWNER -> driver.frontend().resetOwner();
                case STATUS_ZERO -> driver.frontend().setStatus(0);
                case RX_RING_STOPPED -> driver.frontend().getVringBase(0);
            }
        }
    }

    /**
     * Frames sent into the loopback while the guest posted no RX buffers belonged to that
     * driver: before, they stayed in the port and were delivered into the next session's ring.
     */
    @ParameterizedTest
    @EnumSource(Reset.class)
    void aResetDropsAndCountsWhatTheDeviceHeldForTheDriver(Reset reset) throws Exception {
        int held = 10;
        try (NetBackend backend = new NetBackend(dir, new LoopbackPort(1))) {
            QueuePairCounters counters = backend.counters();
            try (NetDriver driver = NetDriver.connect(backend.socket, FEATURES)) {
                for (int i = 0; i < held; i++) {
                    driver.send(driver.plainHeader(), packet(i, 100));
                }
                Eventually.equals(held, () -> backend.device.pair(0).port().backlog());
                reset.apply(driver);
                Eventually.equals(held, () -> counters.get(NetCounter.RX_DROP_BACKLOG));
                assertEquals(0, backend.device.pair(0).port().backlog());
            }
            try (NetDriver next = NetDriver.connect(backend.socket, FEATURES)) {
                roundTrip(next, 1000);
            }
            assertEquals(held, counters.get(NetCounter.RX_DROP_BACKLOG));
        }
    }

    /**
     * An offset near 2^31 plus the size overflowed an int, passed the range check, and
     * SET_CONFIG's copy threw, which closed the session.
     */
    @Test
    void aConfigRangeWhoseEndOverflowsIsRefusedAndTheSessionGoesOn() throws Exception {
        int offset = Integer.MAX_VALUE - 4;
        try (NetBackend backend = new NetBackend(dir, new LoopbackPort(1));
                NetDriver driver = NetDriver.connect(backend.socket, FEATURES)) {
            assertThrows(VhostUserException.class, () -> driver.frontend().getConfig(offset, 8), "an empty reply");
            assertThrows(VhostUserException.class, () -> driver.frontend().setConfig(offset, 0, new byte[8]),
                    "an error ack");
            assertArrayEquals(NetDeviceOptions.DEFAULT_MAC.bytes(), driver.frontend().getConfig(0, 6));
            roundTrip(driver, 0);
        }
    }

    /** One frame out through TX and back through RX: the pair's worker is alive and serving this driver. */
    private static void roundTrip(NetDriver driver, int sequence) throws Exception {
        driver.postRx(4, 2048);
        driver.send(driver.plainHeader(), packet(sequence, 200));
        assertArrayEquals(packet(sequence, 200), driver.receive().packet());
    }

}
