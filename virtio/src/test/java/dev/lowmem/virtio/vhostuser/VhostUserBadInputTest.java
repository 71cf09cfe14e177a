package dev.lowmem.virtio.vhostuser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import dev.lowmem.vmm.core.event.EventFd;
import dev.lowmem.vmm.core.memory.Memfd;
import dev.lowmem.vmm.core.nativeio.Errno;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.LibC;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import dev.lowmem.vmm.core.socket.UnixSocket;
import dev.lowmem.vmm.core.testing.ProcSelf;
import java.io.EOFException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The back-end against malformed and refusable messages over a real socket: each is refused
 * (an error ack when the front-end asked for one, the connection closed otherwise), every
 * descriptor and mapping it brought is released, and the back-end then serves a good session.
 */
@Timeout(60)
class VhostUserBadInputTest {
    private static final long FEATURES = Features.of(Feature.VERSION_1, Feature.VHOST_USER_PROTOCOL_FEATURES);
    private static final int ASK = VhostUserHeader.VERSION | VhostUserHeader.NEED_REPLY;
    /** What a test's own memfd is called when it has none: nothing maps it, before or after. */
    private static final String NO_MEMFD = "vu-bad-none";
    private static final int UNKNOWN_CODE = 99;

    @TempDir
    Path directory;
    private BackendFixture backend;

    /** What a case sends once connected, over the front-end or, for a raw header, its socket. */
    @FunctionalInterface
    private interface BadInput {
        void send(VhostUserFrontend frontend, UnixSocket socket) throws Exception;
    }

    @BeforeEach
    void listen() throws Exception {
        backend = BackendFixture.listen(directory);
    }

    @AfterEach
    void close() throws Exception {
        backend.close();
    }

    // ---- broken streams: the connection closes ----

    @Test
    void wrongVersionBitsCloseTheConnection() throws Exception {
        refusedThenServed(NO_MEMFD, (frontend, socket) -> {
            negotiate(frontend);
            frontend.send(VhostUserRequest.GET_FEATURES.code(), 2, Wire.payload(0));
            assertClosed(frontend);
        });
    }

    @Test
    void aPayloadBeyondTheLimitClosesTheConnection() throws Exception {
        refusedThenServed(NO_MEMFD, (frontend, socket) -> {
            negotiate(frontend);
            try (Arena arena = Arena.ofConfined()) {
                // The header alone: it announces 1 MiB that never comes.
                MemorySegment header = arena.allocate(VhostUserHeader.SIZE, 8);
                Wire.putU32(header, VhostUserHeader.REQUEST_OFFSET, VhostUserRequest.SET_FEATURES.code());
                Wire.putU32(header, VhostUserHeader.FLAGS_OFFSET, ASK);
                Wire.putU32(header, VhostUserHeader.SIZE_OFFSET, 1 << 20);
                socket.send(header);
            }
            assertClosed(frontend);
        });
    }

    @Test
    void aPayloadSizeThatDoesNotFitWithoutNeedReplyClosesTheConnection() throws Exception {
        refusedThenServed(NO_MEMFD, (frontend, socket) -> {
            negotiate(frontend);
            frontend.send(VhostUserRequest.SET_FEATURES.code(), VhostUserHeader.VERSION, Wire.payload(4));
            assertClosed(frontend);
        });
    }

    // ---- refused requests: an error ack, the session goes on ----

    @Test
    void aPayloadSizeThatDoesNotFitIsRefused() throws Exception {
        refusedAfterNegotiation(VhostUserRequest.SET_FEATURES.code(), Wire.payload(4));
    }

    @Test
    void anUnknownRequestIsRefusedAndTheSessionGoesOn() throws Exception {
        refusedThenServed(NO_MEMFD, (frontend, socket) -> {
            negotiate(frontend);
            assertRefused(frontend, UNKNOWN_CODE, Wire.u64Payload(0));
            assertEquals(2, frontend.getQueueNum(), "the session still answers");
        });
    }

    @Test
    void tooManyRegionsAreRefused() throws Exception {
        int regions = MemoryTableMessage.MAX_REGIONS + 1;
        MemorySegment table = Wire.payload(8 + regions * MemoryRegionMessage.REGION_SIZE);
        Wire.putU32(table, 0, regions);
        refusedAfterNegotiation(VhostUserRequest.SET_MEM_TABLE.code(), table);
    }

    @Test
    void aRegionLargerThanItsFileIsRefusedAndNothingMapped() throws Exception {
        String name = "vu-bad-short";
        try (FileDescriptor memfd = Memfd.create(name, 1 << 20)) {
            MemoryRegionMessage region = new MemoryRegionMessage(0, 2 << 20, 0x7f00_0000_0000L, 0);
            refusedThenServed(name, (frontend, socket) -> {
                negotiate(frontend);
                assertRefused(frontend, VhostUserRequest.SET_MEM_TABLE.code(), MemoryTableMessage.encode(List.of(region)),
                        memfd);
                assertEquals(0, ProcSelf.mappingsOf(name), "the back-end mapped nothing of the short file");
            });
        }
    }

    @Test
    void aMissingRegionDescriptorIsRefused() throws Exception {
        MemoryRegionMessage region = new MemoryRegionMessage(0, 1 << 20, 0x7f00_0000_0000L, 0);
        refusedAfterNegotiation(VhostUserRequest.SET_MEM_TABLE.code(), MemoryTableMessage.encode(List.of(region)));
    }

    @Test
    void aDescriptorWhereNoneBelongsIsRefusedAndClosed() throws Exception {
        try (EventFd stray = EventFd.create()) {
            refusedAfterNegotiation(VhostUserRequest.SET_FEATURES.code(), Wire.u64Payload(FEATURES), stray.fd());
        }
    }

    @Test
    void moreThanEightDescriptorsAreRefusedAndClosed() throws Exception {
        List<EventFd> eventFds = new ArrayList<>();
        try {
            for (int i = 0; i <= VhostUserRequest.MAX_FDS; i++) {
                eventFds.add(EventFd.create());
            }
            refusedAfterNegotiation(VhostUserRequest.SET_VRING_CALL.code(), VringFile.of(0, false).encode(),
                    eventFds.stream().map(EventFd::fd).toArray(FileDescriptor[]::new));
        } finally {
            eventFds.forEach(EventFd::close);
        }
    }

    @Test
    void aRingIndexOutOfRangeIsRefused() throws Exception {
        refusedAfterNegotiation(VhostUserRequest.SET_VRING_NUM.code(), new VringState(5, 256).encode());
    }

    @Test
    void aKickForARingOutOfRangeIsRefusedAndItsEventFdClosed() throws Exception {
        try (EventFd kick = EventFd.create()) {
            refusedAfterNegotiation(VhostUserRequest.SET_VRING_KICK.code(), VringFile.of(200, false).encode(), kick.fd());
        }
    }

    @Test
    void aKickWithReservedBitsIsRefused() throws Exception {
        try (EventFd kick = EventFd.create()) {
            refusedAfterNegotiation(VhostUserRequest.SET_VRING_KICK.code(), new VringFile(1L << 32).encode(), kick.fd());
        }
    }

    /** A kind of file a front-end may send where an eventfd belongs. */
    private enum NotAnEventFd {
        SOCKET, MEMFD, READ_ONLY_FILE;

        FileDescriptor open() throws Exception {
            return switch (this) {
                case SOCKET -> {
                    UnixSocket[] pair = UnixSocket.pair();
                    pair[1].close();
                    yield pair[0].fd();
                }
                case MEMFD -> Memfd.create("vu-bad-not-eventfd", 4096);
                case READ_ONLY_FILE -> FileDescriptor.adopt(LibC.open("/dev/null", 0));
            };
        }
    }

    /**
     * Before this was checked, a socket as the kick made the worker's first read fail and end
     * the worker's thread, and a call whose writes failed did the same: the back-end answered on
     * and moved no frame again, for any later session.
     */
    @ParameterizedTest(name = "{0} with a {1}")
    @MethodSource("ringFileRequestsAndWrongKinds")
    void aRingFileThatIsNotAnEventFdIsRefusedWhenItArrives(VhostUserRequest request, NotAnEventFd kind)
            throws Exception {
        try (FileDescriptor wrong = kind.open()) {
            refusedAfterNegotiation(request.code(), VringFile.of(0, false).encode(), wrong);
        }
    }

    static Stream<Arguments> ringFileRequestsAndWrongKinds() {
        return Stream.of(VhostUserRequest.SET_VRING_KICK, VhostUserRequest.SET_VRING_CALL, VhostUserRequest.SET_VRING_ERR)
                .flatMap(request -> Stream.of(NotAnEventFd.values()).map(kind -> Arguments.of(request, kind)));
    }

    /**
     * The back-end channel (SET_BACKEND_REQ_FD) must be a socket: anything else would fail at the
     * first message the back-end sends on it, when a ring faults, far from the request.
     */
    @ParameterizedTest
    @EnumSource(value = NotAnEventFd.class, names = {"MEMFD", "READ_ONLY_FILE"})
    void aBackendChannelThatIsNotASocketIsRefused(NotAnEventFd kind) throws Exception {
        try (FileDescriptor wrong = kind.open()) {
            refusedThenServed(NO_MEMFD, (frontend, socket) -> {
                negotiate(frontend, ProtocolFeature.BACKEND_REQ);
                assertRefused(frontend, VhostUserRequest.SET_BACKEND_REQ_FD.code(), Wire.payload(0), wrong);
            });
        }
    }

    @Test
    void aBackendChannelWithoutBackendReqNegotiatedIsRefused() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket ours = pair[0]; UnixSocket theirs = pair[1]) {
            refusedAfterNegotiation(VhostUserRequest.SET_BACKEND_REQ_FD.code(), Wire.payload(0), theirs.fd());
        }
    }

    /** The spec's no-fd kick asks for a polled ring, which this back-end does not do (docs/ARCHITECTURE.md). */
    @Test
    void aKickWithoutAnEventFdIsRefused() throws Exception {
        refusedAfterNegotiation(VhostUserRequest.SET_VRING_KICK.code(), VringFile.of(0, true).encode());
    }

    /** An offset near 2^31 plus the size overflowed an int, passed the range check, and the copy threw. */
    @Test
    void aConfigRangeWhoseEndOverflowsIsAnsweredEmptyOrRefused() throws Exception {
        int offset = Integer.MAX_VALUE - 8;
        refusedThenServed(NO_MEMFD, (frontend, socket) -> {
            negotiate(frontend, ProtocolFeature.CONFIG);
            assertThrows(VhostUserException.class, () -> frontend.getConfig(offset, 16), "the spec's empty reply");
            assertRefused(frontend, VhostUserRequest.SET_CONFIG.code(),
                    new ConfigSpaceMessage(offset, 0, new byte[16]).encode());
            assertEquals(2, frontend.getQueueNum(), "the session still answers");
        });
    }

    @ParameterizedTest(name = "size {0}")
    @ValueSource(ints = {100, 65536})
    void aQueueSizeThatIsNoPowerOfTwoUpTo32768IsRefused(int size) throws Exception {
        refusedAfterNegotiation(VhostUserRequest.SET_VRING_NUM.code(), new VringState(0, size).encode());
    }

    @Test
    void ringAddressesOutsideTheMemoryTableAreRefused() throws Exception {
        String name = "vu-bad-rings";
        long size = 1 << 20;
        try (FrontendMemory memory = FrontendMemory.create(name, size)) {
            refusedThenServed(name, (frontend, socket) -> {
                negotiate(frontend);
                frontend.setMemTable(memory.regions(1));
                frontend.setVringNum(0, 256);
                long end = memory.userAddress(size - 1) + 1;
                VringAddress outside = new VringAddress(0, 0, end, memory.userAddress(0x2000), memory.userAddress(0x1000), 0);
                VhostUserException refused = assertThrows(VhostUserException.class, () -> frontend.setVringAddr(outside));
                assertTrue(refused.getMessage().contains("SET_VRING_ADDR"), refused.getMessage());
            });
        }
    }

    @Test
    void aSecondClientsBrokenStreamLeavesTheSessionBeingServedAlone() throws Exception {
        String name = "vu-bad-served";
        try (EchoDriver driver = EchoDriver.create(name, Features.of(Feature.VERSION_1))) {
            driver.connect(backend.socket, 1);
            driver.roundTrip(8);
            long fds = ProcSelf.openFdCount();
            long mappings = ProcSelf.mappingsOf(name);
            try (VhostUserFrontend intruder = VhostUserFrontend.over(UnixSocket.connect(backend.socket))) {
                try {
                    intruder.send(VhostUserRequest.GET_FEATURES.code(), 2, Wire.payload(0));
                } catch (NativeIoException e) {
                    // The back-end may have turned it away before it got to send.
                    assertTrue(e.errno() == Errno.EPIPE || e.errno() == Errno.ECONNRESET, e.getMessage());
                }
                assertClosed(intruder);
            }
            BackendFixture.awaitReleased(fds, name, mappings);
            driver.roundTrip(8);
        }
    }

    // ---- helpers ----

    /**
     * Connects, lets {@code input} do its worst, disconnects, waits until the back-end has let go
     * of every descriptor and of every mapping of the memfd {@code memfdName}, then runs a good session.
     */
    private void refusedThenServed(String memfdName, BadInput input) throws Exception {
        long fds = ProcSelf.openFdCount();
        long mappings = ProcSelf.mappingsOf(memfdName);
        UnixSocket socket = UnixSocket.connect(backend.socket);
        try (VhostUserFrontend frontend = VhostUserFrontend.over(socket)) {
            input.send(frontend, socket);
        }
        BackendFixture.awaitReleased(fds, memfdName, mappings);
        try (EchoDriver driver = EchoDriver.create("vu-bad-after", Features.of(Feature.VERSION_1))) {
            driver.connect(backend.socket, 1);
            driver.roundTrip(8);
        }
    }

    /** A negotiated session that gets {@code code} with {@code body} and {@code fds}, asking for a reply, and refuses it. */
    private void refusedAfterNegotiation(int code, MemorySegment body, FileDescriptor... fds) throws Exception {
        refusedThenServed(NO_MEMFD, (frontend, socket) -> {
            negotiate(frontend);
            assertRefused(frontend, code, body, fds);
        });
    }

    /** Features, REPLY_ACK (and {@code more}), and the features acknowledged: what every case starts from. */
    private static void negotiate(VhostUserFrontend frontend, ProtocolFeature... more) throws Exception {
        assertTrue(Feature.VHOST_USER_PROTOCOL_FEATURES.in(frontend.getFeatures()));
        frontend.setProtocolFeatures(ProtocolFeature.of(ProtocolFeature.REPLY_ACK) | ProtocolFeature.of(more));
        frontend.setFeatures(FEATURES);
    }

    /** Sends with NEED_REPLY and expects the error ack for it. */
    private static void assertRefused(VhostUserFrontend frontend, int code, MemorySegment body, FileDescriptor... fds)
            throws Exception {
        frontend.send(code, ASK, body, fds);
        VhostUserMessage ack = frontend.readReply();
        ack.closeFds();
        assertEquals(code, ack.code(), "the ack answers the request");
        assertEquals(Long.BYTES, ack.body().byteSize(), "an ack is a u64");
        assertNotEquals(0, Wire.u64(ack.body(), 0), "the ack reports the refusal");
    }

    private static void assertClosed(VhostUserFrontend frontend) {
        assertThrows(EOFException.class, frontend::readReply, "the back-end closed the connection");
    }
}
