package dev.lowmem.devices.port.sw;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.devices.port.PortQueue;
import dev.lowmem.devices.port.RxBuffers;
import dev.lowmem.devices.port.TxFrame;
import dev.lowmem.devices.wire.VirtioNetHeader;
import dev.lowmem.vmm.core.memory.ScatterList;
import dev.lowmem.vmm.core.nativeio.IovecArray;
import dev.lowmem.vmm.core.pool.PacketPool;
import dev.lowmem.vmm.core.pool.PoolConfig;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A port of two queue pairs on the switch, driven through its port queues as the pairs' workers
 * drive them (no guest: nothing receives directly, so every frame waits in an inbox): frames for
 * it spread over the queues whose driver receives, each connection's frames on one queue and in
 * the order sent.
 */
class SwitchQueuesTest {
    private static final long MAC_A = 0x02_00_00_00_00_0AL;
    private static final long MAC_B = 0x02_00_00_00_00_0BL;
    private static final long BROADCAST = 0xFFFF_FFFF_FFFFL;
    private static final int CONNECTIONS = 16;
    private static final int FRAMES_EACH = 8;
    private static final int LENGTH = 60;

    private final Arena arena = Arena.ofShared();
    private PacketPool pool;
    private L2Switch fabric;
    private SwitchPort a;
    private SwitchPort b;
    private final MemorySegment packet = arena.allocate(LENGTH);
    private TxFrame frame;
    private RxBuffers buffers;
    private final MemorySegment received = arena.allocate(VirtioNetHeader.SIZE + 2048);

    @BeforeEach
    void start() throws Exception {
        pool = new PacketPool(PoolConfig.defaults());
        pool.startRefiller();
        fabric = new L2Switch(new MacTable(), pool);
        a = fabric.addPort("a", 1);
        b = fabric.addPort("b", 2);
        ScatterList packetPieces = new ScatterList(1);
        packetPieces.add(packet);
        frame = new TxFrame(arena.allocate(VirtioNetHeader.SIZE), new IovecArray(arena, 2));
        frame.wrap(packetPieces, 0, LENGTH);
        ScatterList receivedPieces = new ScatterList(1);
        receivedPieces.add(received);
        buffers = new RxBuffers(receivedPieces, new IovecArray(arena, 1));
        // B's MAC learned on its port, as its first frame teaches the switch.
        assertTrue(b.queue(0).transmit(udp(MAC_B, BROADCAST, 0, 0)));
    }

    @AfterEach
    void stop() {
        a.close();
        b.close();
        fabric.close();
        pool.close();
        arena.close();
    }

    @Test
    void connectionsSpreadOverTheReceivingQueuesEachInOrderOnOne() throws Exception {
        PortQueue[] queues = {b.queue(0), b.queue(1)};
        for (PortQueue queue : queues) {
            assertEquals(0, queue.nextFrameLength(), "a running RX queue looks, and so receives from now");
        }
        sendFromA();

        Map<Integer, Integer> queueOf = new HashMap<>();
        int[] perQueue = new int[2];
        for (int q = 0; q < 2; q++) {
            int[] next = new int[CONNECTIONS];
            for (int[] taken : drain(queues[q])) {
                int connection = taken[0];
                assertEquals(q, (int) queueOf.merge(connection, q, (first, now) -> first), "connection " + connection + " on one queue");
                assertEquals(next[connection]++, taken[1], "connection " + connection + "'s frames in order");
                perQueue[q]++;
            }
        }
        assertEquals(CONNECTIONS, queueOf.size());
        assertEquals(CONNECTIONS * FRAMES_EACH, perQueue[0] + perQueue[1]);
        assertTrue(perQueue[0] > 0 && perQueue[1] > 0, perQueue[0] + " and " + perQueue[1] + " frames on the two queues");
    }

    @Test
    void aQueueWhoseDriverDoesNotReceiveGetsNone() throws Exception {
        assertEquals(0, b.queue(1).nextFrameLength());
        sendFromA();

        assertEquals(CONNECTIONS * FRAMES_EACH, drain(b.queue(1)).size());
        assertEquals(0, drain(b.queue(0)).size(), "queue 0's driver has not looked: Linux uses the pairs it enabled");
    }

    private void sendFromA() throws Exception {
        for (int i = 0; i < FRAMES_EACH; i++) {
            for (int connection = 0; connection < CONNECTIONS; connection++) {
                assertTrue(a.queue(0).transmit(udp(MAC_A, MAC_B, connection, i)));
            }
        }
    }

    /** Every frame the queue holds: {connection, sequence} of each. */
    private List<int[]> drain(PortQueue queue) throws Exception {
        List<int[]> frames = new ArrayList<>();
        while (queue.nextFrameLength() != 0) {
            assertEquals(VirtioNetHeader.SIZE + LENGTH, queue.receive(buffers));
            int sourcePort = Short.toUnsignedInt(received.get(BE16, VirtioNetHeader.SIZE + 34)) - 40000;
            frames.add(new int[] {sourcePort, received.get(BE32, VirtioNetHeader.SIZE + 42)});
        }
        return frames;
    }

    private static final ValueLayout.OfShort BE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    /** A UDP/IPv4 frame from port 40000 + {@code connection}, its sequence number first in the payload. */
    private TxFrame udp(long source, long destination, int connection, int sequence) {
        ByteBuffer bytes = ByteBuffer.allocate(LENGTH);
        bytes.putShort((short) (destination >>> 32)).putInt((int) destination);
        bytes.putShort((short) (source >>> 32)).putInt((int) source);
        bytes.putShort((short) 0x0800);
        bytes.put((byte) 0x45).put((byte) 0).putShort((short) 46).putInt(0).put((byte) 64).put((byte) 17).putShort((short) 0);
        bytes.putInt(0x0A000001).putInt(0x0A000002);
        bytes.putShort((short) (40000 + connection)).putShort((short) 5201).putShort((short) 26).putShort((short) 0);
        bytes.putInt(sequence);
        MemorySegment.copy(MemorySegment.ofArray(bytes.array()), 0, packet, 0, LENGTH);
        return frame;
    }
}
