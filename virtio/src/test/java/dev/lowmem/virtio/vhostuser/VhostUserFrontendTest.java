package dev.lowmem.virtio.vhostuser;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.queue.DriverChain;
import dev.lowmem.vmm.core.event.EventFd;
import dev.lowmem.vmm.core.socket.UnixServerSocket;
import dev.lowmem.vmm.core.socket.UnixSocket;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class VhostUserFrontendTest {
    private static final long MIB = 1 << 20;
    private static final VringAddress RINGS = new VringAddress(0, 0, 0x7f00_0000_1000L, 0x7f00_0000_3000L,
            0x7f00_0000_2000L, 0);

    private final ExecutorService peerThread = Executors.newSingleThreadExecutor();
    private VhostUserFrontend frontend;
    /** The back-end's end of the socketpair, played by a script on {@link #peerThread}. */
    private MessageChannel backend;

    @BeforeEach
    void connect() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        frontend = VhostUserFrontend.over(pair[0]);
        backend = new MessageChannel(pair[1], false);
    }

    @AfterEach
    void close() {
        peerThread.shutdownNow();
        frontend.close();
        backend.close();
    }

    /**
     * Runs {@code script} as the back-end. Its socket closes when the script ends, or fails an
     * assertion, so a front-end still waiting for a reply sees end of stream instead of hanging.
     */
    private <T> Future<T> peer(Callable<T> script) {
        return peerThread.submit(() -> {
            try {
                return script.call();
            } finally {
                backend.socket().close();
            }
        });
    }

    private void reply(VhostUserMessage request, MemorySegment body) throws Exception {
        backend.send(request.code(), VhostUserHeader.VERSION | VhostUserHeader.REPLY, body);
    }

    @Test
    void getFeaturesReturnsWhatTheBackEndAnswered() throws Exception {
        long offered = Feature.VERSION_1.mask() | Feature.VHOST_USER_PROTOCOL_FEATURES.mask();
        Future<VhostUserMessage> peer = peer(() -> {
            VhostUserMessage request = backend.read();
            reply(request, Wire.u64Payload(offered));
            return request;
        });

        assertEquals(offered, frontend.getFeatures());
        VhostUserMessage request = peer.get();
        assertEquals(VhostUserRequest.GET_FEATURES, request.request());
        assertEquals(VhostUserHeader.VERSION, request.flags());
        assertEquals(0, request.body().byteSize());
    }

    @Test
    void withReplyAckNegotiatedSetRequestsAskForAnAckAndANonZeroOneThrows() throws Exception {
        Future<List<VhostUserMessage>> peer = peer(() -> {
            VhostUserMessage protocolFeatures = backend.read();
            VhostUserMessage num = backend.read();
            reply(num, Wire.u64Payload(0));
            VhostUserMessage address = backend.read();
            reply(address, Wire.u64Payload(1));
            VhostUserMessage queueNum = backend.read();
            reply(queueNum, Wire.u64Payload(2));
            return List.of(protocolFeatures, num, address, queueNum);
        });

        frontend.setProtocolFeatures(ProtocolFeature.of(ProtocolFeature.REPLY_ACK));
        frontend.setVringNum(0, 256);
        VhostUserException refused = assertThrows(VhostUserException.class, () -> frontend.setVringAddr(RINGS));
        assertEquals(2, frontend.getQueueNum());

        assertTrue(refused.getMessage().contains("backend refused SET_VRING_ADDR"), refused.getMessage());
        List<VhostUserMessage> requests = peer.get();
        assertFalse(requests.get(0).needsReply(), "REPLY_ACK is not on until SET_PROTOCOL_FEATURES has gone");
        assertTrue(requests.get(1).needsReply());
        assertTrue(requests.get(2).needsReply());
        assertFalse(requests.get(3).needsReply(), "GET_QUEUE_NUM has a reply of its own");
    }

    @Test
    void theBackEndClosingBeforeItsFirstReplyMayBeServingAnotherFrontEnd() throws Exception {
        peer(backend::read);

        VhostUserException e = assertThrows(VhostUserException.class, frontend::getFeatures);

        assertTrue(e.getMessage().contains("backend closed the connection before answering GET_FEATURES"), e.getMessage());
        assertTrue(e.getMessage().contains("one front-end at a time"), e.getMessage());
    }

    @Test
    void theBackEndClosingLaterIsReportedWithoutTheHint() throws Exception {
        peer(() -> {
            reply(backend.read(), Wire.u64Payload(0));
            return backend.read();
        });
        frontend.getFeatures();

        VhostUserException e = assertThrows(VhostUserException.class, () -> frontend.getVringBase(0));

        assertTrue(e.getMessage().contains("before answering GET_VRING_BASE"), e.getMessage());
        assertFalse(e.getMessage().contains("one front-end"), e.getMessage());
    }

    @Test
    void aReplyToAnotherRequestIsRefused() throws Exception {
        peer(() -> {
            backend.read();
            backend.send(VhostUserRequest.GET_PROTOCOL_FEATURES.code(), VhostUserHeader.VERSION | VhostUserHeader.REPLY,
                    Wire.u64Payload(0));
            return null;
        });

        VhostUserException e = assertThrows(VhostUserException.class, frontend::getFeatures);

        assertTrue(e.getMessage().contains("reply to GET_FEATURES, got one to GET_PROTOCOL_FEATURES"), e.getMessage());
    }

    @Test
    void aReplyOfTheWrongSizeIsRefused() throws Exception {
        peer(() -> {
            reply(backend.read(), Wire.payload(4));
            return null;
        });

        VhostUserException e = assertThrows(VhostUserException.class, frontend::getQueueNum);

        assertTrue(e.getMessage().contains("GET_QUEUE_NUM: reply of 4 bytes; it takes 8"), e.getMessage());
    }

    @Test
    void getConfigReturnsTheBytesAndAnEmptyReplyIsARefusal() throws Exception {
        byte[] mac = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
        peer(() -> {
            VhostUserMessage request = backend.read();
            ConfigSpaceMessage asked = ConfigSpaceMessage.read(request.body());
            reply(request, new ConfigSpaceMessage(asked.offset(), 0, mac).encode());
            reply(backend.read(), Wire.payload(0));
            return null;
        });

        assertArrayEquals(mac, frontend.getConfig(0, mac.length));
        VhostUserException e = assertThrows(VhostUserException.class, () -> frontend.getConfig(0, mac.length));
        assertTrue(e.getMessage().contains("backend refused GET_CONFIG"), e.getMessage());
    }

    @Test
    void connectWaitsForABackEndThatIsStillStarting(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("vnet.sock");
        Future<Void> late = peerThread.submit(() -> {
            Thread.sleep(100);
            try (UnixServerSocket server = UnixServerSocket.listen(path); UnixSocket accepted = server.accept()) {
                return null;
            }
        });

        try (VhostUserFrontend connected = VhostUserFrontend.connect(path, Duration.ofSeconds(5))) {
            late.get();
        }
    }

    @Test
    void connectGivesUpNamingThePath(@TempDir Path dir) {
        Path path = dir.resolve("nobody.sock");

        IOException e = assertThrows(IOException.class, () -> VhostUserFrontend.connect(path, Duration.ofMillis(100)));

        assertTrue(e.getMessage().contains(path.toString()), e.getMessage());
    }

    @Test
    void twoRegionsDescribeAdjacentHalvesAtOurOwnMapping() throws Exception {
        try (FrontendMemory memory = FrontendMemory.create("vu-guest", 2 * MIB)) {
            List<FrontendRegion> regions = memory.regions(2);
            MemoryRegionMessage low = regions.get(0).description();
            MemoryRegionMessage high = regions.get(1).description();

            assertEquals(new MemoryRegionMessage(0, MIB, memory.userAddress(0), 0), low);
            assertEquals(new MemoryRegionMessage(MIB, MIB, low.userAddr() + MIB, MIB), high);
            assertSame(memory.fd(), regions.get(1).fd());
            memory.bytes(MIB + 64, Long.BYTES).set(ValueLayout.JAVA_LONG, 0, 0x5eed_f00d_cafe_beefL);
            MemorySegment atUserAddress = MemorySegment.ofAddress(high.userAddr() + 64).reinterpret(Long.BYTES);
            assertEquals(0x5eed_f00d_cafe_beefL, atUserAddress.get(ValueLayout.JAVA_LONG, 0));
        }
    }

    @Test
    void aQueueIsSetUpInQemusOrderWithItsEventfds() throws Exception {
        try (FrontendMemory memory = FrontendMemory.create("vu-guest", 2 * MIB);
             FrontendQueue queue = FrontendQueue.create(memory, 0x1000, Feature.VERSION_1.mask(), 256)) {
            Future<List<VhostUserMessage>> peer = peer(() -> {
                List<VhostUserMessage> requests = new ArrayList<>();
                for (int i = 0; i < 5; i++) {
                    requests.add(backend.read());
                }
                return requests;
            });

            queue.setUp(frontend, 1, 0);
            List<VhostUserMessage> requests = peer.get();

            assertEquals(List.of(VhostUserRequest.SET_VRING_NUM, VhostUserRequest.SET_VRING_BASE,
                    VhostUserRequest.SET_VRING_ADDR, VhostUserRequest.SET_VRING_KICK, VhostUserRequest.SET_VRING_CALL),
                    requests.stream().map(VhostUserMessage::request).toList());
            assertEquals(new VringState(1, 256), VringState.read(requests.get(0).body()));
            assertEquals(new VringState(1, 0), VringState.read(requests.get(1).body()));
            VringAddress address = VringAddress.read(requests.get(2).body());
            assertEquals(queue.vringAddress(1), address);
            assertEquals(memory.userAddress(0x1000), address.desc());
            try (EventFd kick = EventFd.adopt(requests.get(3).fds().getFirst());
                 EventFd call = EventFd.adopt(requests.get(4).fds().getFirst())) {
                queue.driver().add(new DriverChain(1).readable(0x10000, 64), false);
                assertTrue(queue.publish(), "a fresh split ring asks for every kick");
                assertEquals(1, kick.read());
                call.signal();
                assertEquals(1, queue.call().read());
            }
        }
    }
}
