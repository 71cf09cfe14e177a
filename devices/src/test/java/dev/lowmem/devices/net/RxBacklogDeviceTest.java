package dev.lowmem.devices.net;

import static dev.lowmem.devices.port.EthernetFrames.ETHER_TYPE;
import static dev.lowmem.devices.port.EthernetFrames.IP_PROTOCOL;
import static dev.lowmem.devices.port.EthernetFrames.L4;
import static dev.lowmem.devices.port.EthernetFrames.PROTOCOL_UDP;
import static dev.lowmem.devices.port.EthernetFrames.TYPE_IPV4;
import static dev.lowmem.devices.port.EthernetFrames.UDP_DESTINATION_PORT;
import static dev.lowmem.devices.port.EthernetFrames.UDP_HEADER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.devices.port.NetworkNamespace;
import dev.lowmem.devices.port.TapPort;
import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import dev.lowmem.vmm.core.pool.PacketPool;
import dev.lowmem.vmm.core.pool.PoolConfig;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The RX backlog on a real TAP, whose kernel queue drops what is not read: datagrams the host
 * sends while the guest's RX ring is empty wait in packet-pool buffers, and one kick of the
 * guest's new buffers brings them all, in order; with no pool memory they wait in the TAP's
 * queue instead; frames the guest never takes are counted when its queue stops, and the pool's
 * memory goes back.
 */
class RxBacklogDeviceTest {
    private static final long FEATURES = Features.of(Feature.VERSION_1, Feature.NET_MRG_RXBUF, Feature.RING_EVENT_IDX);
    private static final int GUEST_PORT = 40_001;
    private static final int DATAGRAMS = 40;
    /** More than the backlog holds, less than the TAP's queue (500 frames). */
    private static final int FLOOD = RxBacklog.MAX_FRAMES + 44;
    private static final int SPARE = 8;

    private final String id = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
    private final String subnet = NetworkNamespace.randomSubnet();

    @TempDir
    Path dir;
    private NetworkNamespace host;
    private TapPort port;

    @BeforeEach
    void tapInItsOwnNamespace() throws Exception {
        host = NetworkNamespace.createWithoutIpv6("lmvb-" + id);
        port = TapPort.open("lmvb" + id, 1);
    }

    /** After the device owns the port: the TAP moves to the host's namespace and learns the guest's MAC. */
    private void hostSideUp() throws Exception {
        String tap = port.interfaceName();
        host.adoptAsHost(tap, subnet + ".1/24");
        host.exec("ip", "neighbour", "replace", subnet + ".2", "lladdr", NetDeviceOptions.DEFAULT_MAC.toString(),
                "dev", tap, "nud", "permanent");
    }

    @AfterEach
    void deleteNamespace() throws Exception {
        host.close();
    }

    @Test
    void datagramsThatArriveWhileTheRingIsEmptyAreHeldAndComeWithOneKick() throws Exception {
        try (PacketPool pool = new PacketPool(PoolConfig.defaults());
                NetBackend backend = new NetBackend(dir, port, pool);
                NetDriver driver = NetDriver.connect(backend.socket, FEATURES)) {
            hostSideUp();
            QueuePairCounters counters = backend.counters();
            sendDatagrams();
            Eventually.equals(DATAGRAMS, () -> counters.get(NetCounter.RX_HELD));
            assertEquals(DATAGRAMS, backend.device.pair(0).backlog());
            long kicks = counters.get(NetCounter.RX_KICKS);

            driver.postRx(DATAGRAMS, 2048);
            receiveDatagramsInOrder(driver);
            // A worker still polling takes the buffers before it reads their kick, which it counts when it next sleeps.
            Eventually.equals(kicks + 1, () -> counters.get(NetCounter.RX_KICKS));
            assertEquals(0, backend.device.pair(0).backlog());
            assertTrue(counters.get(NetCounter.RX_STARVED_NS) > 0, "the starved time is counted when it ends");
            assertEquals(0, counters.drops());
        }
    }

    @Test
    void withoutPoolMemoryTheDatagramsWaitInTheTapAndNoneIsLost() throws Exception {
        try (PacketPool pool = new PacketPool(PoolConfig.defaults().withBudget(0));
                NetBackend backend = new NetBackend(dir, port, pool);
                NetDriver driver = NetDriver.connect(backend.socket, FEATURES)) {
            hostSideUp();
            QueuePairCounters counters = backend.counters();
            sendDatagrams();
            Eventually.equals(1, () -> Math.min(1, counters.get(NetCounter.RX_POOL_REFUSED)));
            assertEquals(0, counters.get(NetCounter.RX_HELD));
            assertTrue(pool.stats().budgetFailures() >= 1, "the pool counts what it could not give");

            driver.postRx(DATAGRAMS, 2048);
            receiveDatagramsInOrder(driver);
            assertEquals(0, counters.drops());
        }
    }

    @Test
    void framesHeldWhenTheQueueStopsAreCountedAndThePoolIsGivenBack() throws Exception {
        try (PacketPool pool = new PacketPool(PoolConfig.defaults());
                NetBackend backend = new NetBackend(dir, port, pool)) {
            QueuePairCounters counters = backend.counters();
            try (NetDriver driver = NetDriver.connect(backend.socket, FEATURES)) {
                hostSideUp();
                sendDatagrams();
                Eventually.equals(DATAGRAMS, () -> counters.get(NetCounter.RX_HELD));
                assertEquals(1, pool.stats().users());
            }
            Eventually.equals(DATAGRAMS, () -> counters.get(NetCounter.RX_DROP_BACKLOG));
            Eventually.equals(0, () -> pool.stats().users());
            Eventually.equals(0, () -> pool.stats().allocatedBytes());
            assertEquals(0, backend.device.pair(0).backlog());
            // The stop ends the starvation, which counts its time then, not when a next session's guest posts buffers.
            Eventually.equals(1, () -> Math.min(1, counters.get(NetCounter.RX_STARVED_NS)));
        }
    }

    @Test
    void buffersPostedAfterTheBacklogFilledTakeTheHeldFramesBeforeTheNewerOnesInThePort() throws Exception {
        withAFullBacklog((backend, driver, counters) -> {
            // The first batch of buffers all go to held frames; the second to the rest of them, then the port's.
            // (A kick each, or none for a batch a polling worker finds first: the order is what counts.)
            driver.postRx(200, 2048);
            receiveDatagramsInOrder(driver, 0, 200);
            driver.postRx(FLOOD - 200, 2048);
            receiveDatagramsInOrder(driver, 200, FLOOD);
            assertEquals(0, backend.device.pair(0).backlog());
            assertEquals(0, counters.drops());
        });
    }

    @Test
    void aFloodThatOutlastsTheBacklogWaitsInTheTapUntilItRunsDryThenTheBacklogHoldsAgain() throws Exception {
        withAFullBacklog((backend, driver, counters) -> {
            assertEquals(1, counters.get(NetCounter.RX_BACKLOG_FULL));

            // The guest takes the held frames and starves again: the flood's rest and what comes
            // meanwhile stay in the TAP, for the guest's buffers alone.
            driver.postRx(RxBacklog.MAX_FRAMES, 2048);
            receiveDatagramsInOrder(driver, 0, RxBacklog.MAX_FRAMES);
            sendDatagrams(FLOOD, FLOOD + DATAGRAMS);
            // More buffers than frames: RX finds the TAP dry while the guest has room, the end of the flood.
            driver.postRx(FLOOD + DATAGRAMS - RxBacklog.MAX_FRAMES + SPARE, 2048);
            receiveDatagramsInOrder(driver, RxBacklog.MAX_FRAMES, FLOOD + DATAGRAMS);
            assertEquals(RxBacklog.MAX_FRAMES, counters.get(NetCounter.RX_HELD),
                    "nothing held while the TAP held the flood");

            // The next starvation is held again: the spare buffers take the first frames, the backlog the rest.
            sendDatagrams(0, DATAGRAMS);
            Eventually.equals(RxBacklog.MAX_FRAMES + DATAGRAMS - SPARE, () -> counters.get(NetCounter.RX_HELD));
            driver.postRx(DATAGRAMS - SPARE, 2048);
            receiveDatagramsInOrder(driver, 0, DATAGRAMS);
            assertEquals(1, counters.get(NetCounter.RX_BACKLOG_FULL));
            assertEquals(0, counters.drops());
            assertEquals(0, port.hostDrops(), "the TAP's queue dropped nothing");
        });
    }

    /** What a test does once the back-end holds a full backlog and the TAP the rest of a flood. */
    @FunctionalInterface
    private interface FullBacklogScenario {
        void run(NetBackend backend, NetDriver driver, QueuePairCounters counters) throws Exception;
    }

    /**
     * Sends {@link #FLOOD} datagrams to a guest that posted no buffers, waits until the backlog
     * is full (the TAP holding the rest), then runs {@code scenario}.
     */
    private void withAFullBacklog(FullBacklogScenario scenario) throws Exception {
        try (PacketPool pool = new PacketPool(PoolConfig.defaults());
                NetBackend backend = new NetBackend(dir, port, pool);
                NetDriver driver = NetDriver.connect(backend.socket, FEATURES)) {
            hostSideUp();
            QueuePairCounters counters = backend.counters();
            sendDatagrams(0, FLOOD);
            Eventually.equals(RxBacklog.MAX_FRAMES, () -> counters.get(NetCounter.RX_HELD));
            scenario.run(backend, driver, counters);
        }
    }

    /** Datagrams "held-0", "held-1", ... from a socket in the host's namespace to the guest. */
    private void sendDatagrams() throws Exception {
        sendDatagrams(0, DATAGRAMS);
    }

    /** Datagrams "held-FIRST" up to "held-(END - 1)". */
    private void sendDatagrams(int first, int end) throws Exception {
        host.exec("bash", "-c", "for i in $(seq " + first + " " + (end - 1) + "); do printf held-$i > /dev/udp/"
                + subnet + ".2/" + GUEST_PORT + "; done");
    }

    private static void receiveDatagramsInOrder(NetDriver driver) throws Exception {
        receiveDatagramsInOrder(driver, 0, DATAGRAMS);
    }

    /** Receives "held-FIRST" up to "held-(END - 1)", in that order, skipping a few strays. */
    private static void receiveDatagramsInOrder(NetDriver driver, int first, int end) throws Exception {
        int next = first;
        for (int frame = first; frame < end + 8 && next < end; frame++) {
            ByteBuffer received = ByteBuffer.wrap(driver.receive().packet());
            if (received.getShort(ETHER_TYPE) == TYPE_IPV4 && received.get(IP_PROTOCOL) == PROTOCOL_UDP
                    && (received.getShort(UDP_DESTINATION_PORT) & 0xFFFF) == GUEST_PORT) {
                String payload = StandardCharsets.US_ASCII.decode(received.position(L4 + UDP_HEADER)).toString();
                assertEquals("held-" + next, payload);
                next++;
            }
        }
        assertEquals(end, next, "every datagram reached the guest");
    }
}
