package dev.lowmem.devices.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.devices.port.sw.SwitchCounter;
import dev.lowmem.devices.wire.VirtioNetHeader;
import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import dev.lowmem.vmm.core.pool.PoolConfig;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.ToLongFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three guests on one switch, each a device on a vhost-user socket of its own, played by our
 * front-end: learning, flooding, back-pressure, a full port that loses floods and not unicast,
 * and a guest that goes (its frames dropped, and later ones for it too, without stalling others). Every frame is checked byte for byte. The guests' drivers differ: A has
 * a 12-byte header and mergeable buffers, B a legacy 10-byte header, C packed rings, so that
 * frames cross between header sizes and ring layouts.
 */
class SwitchDeviceTest {
    private static final int A = 0;
    private static final int B = 1;
    private static final int C = 2;
    private static final long BROADCAST = 0xFFFFFFFFFFFFL;
    /** Room for a whole 1514-byte frame in one buffer, with either header. */
    private static final int BUFFER = 1536;
    /** The frames a switch port's inbox holds (Inbox.CAPACITY). */
    private static final int INBOX = 256;
    private static final long[] FEATURES = {
        Features.of(Feature.VERSION_1, Feature.NET_MRG_RXBUF, Feature.RING_INDIRECT_DESC, Feature.RING_EVENT_IDX),
        Features.of(Feature.RING_INDIRECT_DESC),
        Features.of(Feature.VERSION_1, Feature.RING_PACKED, Feature.RING_INDIRECT_DESC)};

    @TempDir
    Path dir;

    private SwitchRig rig;
    private final NetDriver[] guests = new NetDriver[3];
    private int sequence;

    @BeforeEach
    void start() throws Exception {
        rig = new SwitchRig(dir, 3);
        rig.awaitPoolReserve();
        for (int i = 0; i < guests.length; i++) {
            guests[i] = NetDriver.connect(rig.socket(i), FEATURES[i]);
        }
    }

    @AfterEach
    void stop() throws Exception {
        for (NetDriver guest : guests) {
            if (guest != null) {
                guest.close();
            }
        }
        rig.close();
    }

    @Test
    void unicastGoesToTheLearnedPortAloneAndBroadcastAndUnknownUnicastToEveryOtherPort() throws Exception {
        for (NetDriver guest : guests) {
            guest.fillRx(BUFFER);
        }
        byte[] broadcast = send(A, BROADCAST, 200);
        expect(B, broadcast);
        expect(C, broadcast);

        byte[] toA = send(B, mac(A), 1514);
        expect(A, toA);

        byte[] unknown = send(A, mac(C), 60);
        expect(B, unknown);
        expect(C, unknown);

        byte[] cToA = send(C, mac(A), 999);
        expect(A, cToA);
        byte[] aToC = send(A, mac(C), 1000);
        expect(C, aToC);

        nothingFor(A);
        nothingFor(B);
        nothingFor(C);
        assertEquals(2, rig.counters(A).get(SwitchCounter.FLOODED));
        assertEquals(3, rig.counters(A).get(SwitchCounter.FRAMES_IN));
        assertEquals(2, rig.counters(A).get(SwitchCounter.FRAMES_OUT));
        assertEquals(3, rig.counters(C).get(SwitchCounter.FRAMES_OUT));
        for (int port = A; port <= C; port++) {
            assertEquals(0, rig.counters(port).drops());
            assertEquals(0, rig.pairCounters(port).drops());
        }
    }

    @Test
    void aUnicastSenderWaitsForAFullPortAndLosesNothing() throws Exception {
        guests[A].fillRx(BUFFER);
        guests[C].fillRx(BUFFER);
        byte[] hello = send(B, BROADCAST, 80);
        expect(A, hello);
        expect(C, hello);
        int count = INBOX + 40;
        byte[][] sent = new byte[count][];
        for (int i = 0; i < count; i++) {
            sent[i] = send(A, mac(B), 60 + i * 97 % 1455);
        }
        Eventually.holds(() -> rig.member(B).inboxDepth() == INBOX && rig.pairCounters(A).get(NetCounter.TX_PORT_FULL) > 0,
                "B's inbox full and A's TX waiting");
        guests[A].awaitTxReturned(INBOX);
        assertEquals(INBOX, rig.pairCounters(A).get(NetCounter.TX_FRAMES), "A's TX stops at the full inbox");
        // Each retry counts port_full once: a worker that spun on the full port would count on. The
        // worker may retry once more on its way to sleep (the look it takes after asking for the
        // doorbell), so the count is read once it has held still for a while.
        long portFull = settledPortFull(A);
        Thread.sleep(200);
        assertEquals(portFull, rig.pairCounters(A).get(NetCounter.TX_PORT_FULL), "A's worker sleeps while B is full");

        receiveInOrder(B, A, sent);
        guests[A].awaitTxReturned(count);
        assertEquals(count, rig.counters(B).get(SwitchCounter.FRAMES_OUT));
        assertEquals(0, rig.counters(B).drops());
        assertEquals(0, rig.pairCounters(A).drops());
        assertEquals(0, rig.pairCounters(B).drops());
        nothingFor(C);
    }

    /** {@code port}'s TX port_full count once it stayed the same for 100 ms; fails if it never does within 5 s. */
    private long settledPortFull(int port) throws InterruptedException {
        long before = rig.pairCounters(port).get(NetCounter.TX_PORT_FULL);
        for (int attempt = 0; attempt < 50; attempt++) {
            Thread.sleep(100);
            long now = rig.pairCounters(port).get(NetCounter.TX_PORT_FULL);
            if (now == before) {
                return now;
            }
            before = now;
        }
        throw new AssertionError("port " + port + "'s port_full still climbing after 5 s: " + before + "; its worker spins");
    }

    @Test
    void aUnicastSenderWaitsForThePoolsBuffersAndLosesNothing() throws Exception {
        // 128 buffers in all, fewer than an inbox holds: the pool runs dry before B's inbox fills.
        rig.close();
        rig = new SwitchRig(Files.createDirectory(dir.resolve("small-pool")), 3,
                new PoolConfig(2048, 64, 2 * 64 * 2048, 8, 8, 1));
        for (int i = 0; i < guests.length; i++) {
            guests[i].close();
            guests[i] = NetDriver.connect(rig.socket(i), FEATURES[i]);
        }
        guests[A].fillRx(BUFFER);
        expect(A, send(B, BROADCAST, 80));
        // B posts no buffer yet: A's frames wait in B's inbox, in the pool's buffers.
        int count = 200;
        byte[][] sent = new byte[count][];
        for (int i = 0; i < count; i++) {
            sent[i] = send(A, mac(B), 1000 + i);
        }
        Eventually.holds(() -> rig.pairCounters(A).get(NetCounter.TX_PORT_FULL) > 0, "A's TX waiting for buffers");
        assertTrue(rig.member(B).inboxDepth() < INBOX, "B's inbox is not what stopped A");

        receiveInOrder(B, A, sent);
        guests[A].awaitTxReturned(count);
        assertEquals(0, rig.counters(B).drops(), "no frame for B dropped for want of a buffer");
        assertEquals(0, rig.pairCounters(A).drops());
    }

    @Test
    void aFullPortLosesFloodsWhileUnicastToOthersFlows() throws Exception {
        guests[A].fillRx(BUFFER);
        guests[C].fillRx(BUFFER);
        expect(A, send(C, mac(A), 70));
        int floods = INBOX + 30;
        for (int batch = 0; batch < floods; batch += 50) {
            byte[][] sent = new byte[Math.min(50, floods - batch)][];
            for (int i = 0; i < sent.length; i++) {
                sent[i] = send(A, BROADCAST, 100 + i);
            }
            for (byte[] frame : sent) {
                expectFrame(C, frame);
            }
            guests[C].fillRx(BUFFER);
        }
        for (int i = 0; i < 20; i++) {
            expect(C, send(A, mac(C), 300 + i));
        }

        assertEquals(INBOX, rig.member(B).inboxDepth());
        // C's first frame was flooded too: A was not known yet.
        assertEquals(floods + 1 - INBOX, rig.counters(B).get(SwitchCounter.DROP_FLOOD_FULL));
        assertEquals(0, rig.pairCounters(A).get(NetCounter.TX_PORT_FULL), "a flood never waits");
        assertEquals(0, rig.counters(C).drops());
    }

    @Test
    void whatAGuestThatGoesHadQueuedIsDroppedAndCountedAndTheOthersSwitchOn() throws Exception {
        guests[A].fillRx(BUFFER);
        guests[C].fillRx(BUFFER);
        byte[] hello = send(B, BROADCAST, 64);
        expect(A, hello);
        expect(C, hello);
        for (int i = 0; i < 10; i++) {
            send(A, mac(B), 500);
        }
        Eventually.holds(() -> rig.member(B).inboxDepth() == 10, "10 frames waiting for B");

        guests[B].disconnect();
        Eventually.holds(() -> rig.counters(B).get(SwitchCounter.DROP_RESET) == 10, "B's frames dropped at its reset");
        assertEquals(0, rig.member(B).inboxDepth());
        assertEquals(10, rig.pairCounters(B).get(NetCounter.RX_DROP_BACKLOG));

        // B's MAC is still learned: its inbox fills, then A's frames for it are dropped, and A never waits.
        // The device's reset, which follows the RX queue's stop on B's worker, may still come and
        // drop some of them as held for the driver that went: each is held or counted once.
        for (int i = 0; i < INBOX + 20; i++) {
            send(A, mac(B), 100);
        }
        Eventually.holds(() -> rig.member(B).inboxDepth() + rig.counters(B).get(SwitchCounter.DROP_NO_RECEIVER)
                + rig.counters(B).get(SwitchCounter.DROP_RESET) - 10 == INBOX + 20, "frames for the gone guest held or dropped");
        assertEquals(0, rig.pairCounters(A).get(NetCounter.TX_PORT_FULL));

        expect(A, send(C, mac(A), 700));
        expect(C, send(A, mac(C), 800));
        assertEquals(0, rig.counters(A).drops() + rig.counters(C).drops());
    }

    /**
     * A frame for a guest with room, and nothing older queued for it, goes from the sender's
     * buffers straight into the receiver's (one copy, counted frames_direct); frames for a guest
     * without room wait in its inbox, and later ones queue behind them, so they arrive in order.
     */
    @Test
    void aGuestWithRoomGetsFramesStraightFromTheSenderAndOneWithoutGetsThemInOrderLater() throws Exception {
        guests[A].fillRx(BUFFER);
        guests[B].fillRx(BUFFER);
        byte[] helloFromB = send(B, BROADCAST, 64);
        expect(A, helloFromB);
        byte[] helloFromC = send(C, BROADCAST, 64);
        expect(A, helloFromC);
        expect(B, helloFromC);
        int frames = 50;
        for (int i = 0; i < frames; i++) {
            expect(B, send(A, mac(B), 100 + i));
        }
        // A frame finds B's queue taken now and then (its worker's own burst, more often on a loaded
        // machine) and queues; the share that goes straight depends on timing, that some do does not.
        assertTrue(rig.counters(B).get(SwitchCounter.FRAMES_DIRECT) > 0,
                rig.counters(B).get(SwitchCounter.FRAMES_DIRECT) + " of " + frames + " frames went straight to B");
        assertEquals(frames + 1, rig.pairCounters(B).get(NetCounter.RX_FRAMES), "counted as B's RX like any other");

        byte[][] sent = new byte[20][];
        for (int i = 0; i < 10; i++) {
            sent[i] = send(A, mac(C), 200 + i);
        }
        Eventually.holds(() -> rig.member(C).inboxDepth() == 11, "B's broadcast and A's 10 frames wait for C, which has no buffers");
        assertEquals(0, rig.counters(C).get(SwitchCounter.FRAMES_DIRECT));
        guests[C].fillRx(BUFFER);
        for (int i = 10; i < 20; i++) {
            sent[i] = send(A, mac(C), 200 + i);
        }
        expect(C, helloFromB);
        for (byte[] frame : sent) {
            expect(C, frame);
        }
        nothingFor(C);
        for (int port = A; port <= C; port++) {
            assertEquals(0, rig.counters(port).drops());
            assertEquals(0, rig.pairCounters(port).drops());
        }
    }

    /**
     * The workers of a sender and a receiver allocate nothing per frame once warm (the first
     * frames learn the MAC, join the pool and make the RX window), by HotSpot's per-thread count,
     * bounded as vmm-core's HotPathAllocationTest bounds it: fewer bytes than frames, for a late
     * compilation on a loaded machine allocates a few KiB once (seen: 9 KiB in one run of 5000
     * frames, then nothing), where an object per frame would be hundreds of KiB.
     */
    @Test
    void aFrameCrossesTheSwitchWithoutAllocating() throws Exception {
        guests[A].fillRx(BUFFER);
        expect(A, send(B, BROADCAST, 60));
        crossAndReceive(5_000);
        long before = rig.workerAllocatedBytes(A) + rig.workerAllocatedBytes(B);
        assertTrue(before > 0, "HotSpot counts what a thread allocates (the RX windows at least)");
        int frames = 20_000;
        crossAndReceive(frames);
        long allocated = rig.workerAllocatedBytes(A) + rig.workerAllocatedBytes(B) - before;

        assertTrue(allocated < frames, allocated + " bytes allocated by the workers for " + frames + " frames");
    }

    /** {@code frames} unicast frames from A to B, B receiving as they come. */
    private void crossAndReceive(int frames) throws Exception {
        for (int batch = 0; batch < frames; batch += 64) {
            guests[B].fillRx(BUFFER);
            int count = Math.min(64, frames - batch);
            for (int i = 0; i < count; i++) {
                send(A, mac(B), 100);
            }
            for (int i = 0; i < count; i++) {
                guests[B].receive();
            }
        }
    }

    /**
     * SEND_RARP for guest A: its port floods the announcement to every other guest, and the switch
     * learns A's MAC on A's port from it, so that unicast to A goes to A alone from then on.
     */
    @Test
    void sendRarpFloodsTheAnnouncementFromTheGuestsPortAndTeachesTheSwitchItsMac() throws Exception {
        for (NetDriver guest : guests) {
            guest.fillRx(BUFFER);
        }
        byte[] macA = ByteBuffer.allocate(8).putLong(mac(A) << 16).array();
        guests[A].sendRarp(java.util.Arrays.copyOf(macA, 6));
        byte[] announcement = Announcement.rarpFrame(java.util.Arrays.copyOf(macA, 6));
        expect(B, announcement);
        expect(C, announcement);
        // Counted once transmit returns, which may be after the receivers have the frame.
        Eventually.holds(() -> rig.pairCounters(A).get(NetCounter.RARP_SENT) == 1, "the announcement is counted");

        byte[] toA = send(B, mac(A), 100);
        expect(A, toA);
        nothingFor(C);
        nothingFor(A);
        for (int port = A; port <= C; port++) {
            assertEquals(0, rig.counters(port).drops());
            assertEquals(0, rig.pairCounters(port).drops());
        }
    }

    private static long mac(int port) {
        return SwitchRig.FIRST_MAC + port;
    }

    /** Sends a frame of {@code length} bytes from guest {@code from} to {@code destination}, numbered, patterned. */
    private byte[] send(int from, long destination, int length) throws Exception {
        ByteBuffer frame = ByteBuffer.allocate(length);
        frame.putShort((short) (destination >>> 32)).putInt((int) destination);
        frame.putShort((short) (mac(from) >>> 32)).putInt((int) mac(from));
        frame.putShort((short) 0x88B5).putInt(sequence++);
        while (frame.hasRemaining()) {
            frame.put((byte) (frame.position() * 31 + sequence));
        }
        byte[] bytes = frame.array();
        guests[from].send(guests[from].plainHeader(), bytes);
        return bytes;
    }

    /** The guest receives {@code packet} next, with a header that asks nothing of it. */
    private void expectFrame(int port, byte[] packet) throws Exception {
        NetDriver.Received received = guests[port].receive();
        assertArrayEquals(packet, received.packet(), "the frame guest " + port + " received");
        byte[] header = received.header();
        for (int i = 0; i < VirtioNetHeader.LEGACY_SIZE; i++) {
            assertEquals(0, header[i], "header byte " + i);
        }
    }

    private void expect(int port, byte[] packet) throws Exception {
        expectFrame(port, packet);
    }

    /**
     * {@code receiver}'s guest takes {@code sent} from {@code sender} in order, posting buffers
     * every 64 frames; a frame missing or late names every counter of both that moved.
     */
    private void receiveInOrder(int receiver, int sender, byte[][] sent) throws Exception {
        for (int i = 0; i < sent.length; i++) {
            if (i % 64 == 0) {
                guests[receiver].fillRx(BUFFER);
            }
            int frame = i;
            NetDriver.Received got = guests[receiver].receive();
            byte[] received = got.packet();
            assertArrayEquals(sent[i], received, () -> "frame " + frame + " of " + sent.length + ", " + received.length
                    + " B came instead; the receiver's port: " + nonZero(SwitchCounter.values(), rig.counters(receiver)::get)
                    + "; the sender's port: " + nonZero(SwitchCounter.values(), rig.counters(sender)::get)
                    + "; the sender's pair: " + nonZero(NetCounter.values(), rig.pairCounters(sender)::get)
                    + "; the receiver's pair: " + nonZero(NetCounter.values(), rig.pairCounters(receiver)::get));
            for (int b = 0; b < VirtioNetHeader.LEGACY_SIZE; b++) {
                assertEquals(0, got.header()[b], "header byte " + b);
            }
        }
    }

    /** The counters that are not 0, by name: what a failure shows of where frames went. */
    private static <C extends Enum<C>> String nonZero(C[] counters, ToLongFunction<C> value) {
        StringBuilder seen = new StringBuilder();
        for (C counter : counters) {
            long count = value.applyAsLong(counter);
            if (count != 0) {
                seen.append(seen.isEmpty() ? "" : ", ").append(counter.name().toLowerCase()).append(' ').append(count);
            }
        }
        return seen.toString();
    }

    private void nothingFor(int port) throws Exception {
        assertEquals(-1, guests[port].takeUsedRx(100), "guest " + port + " receives nothing more");
    }
}
