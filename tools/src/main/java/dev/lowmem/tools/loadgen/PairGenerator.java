package dev.lowmem.tools.loadgen;

import dev.lowmem.devices.wire.VirtioNetHeader;
import dev.lowmem.virtio.queue.DriverChain;
import dev.lowmem.virtio.queue.DriverQueue;
import dev.lowmem.virtio.vhostuser.FrontendQueue;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * One queue pair's datapath, the guest driver's side, at full speed: {@link #doWork()} is one
 * round, run by the pair's thread alone (the agent pattern of the device's own workers).
 *
 * <p>TX: every ring entry has a slot in guest memory with its frame written once; a round
 * writes the next sequence numbers into up to a burst of free slots, adds one descriptor each
 * (header and frame together, as Linux and DPDK do when the header fits in front) and publishes
 * them with one {@code avail} index store, kicking only when the backend asked. Returned chains
 * are taken back in one batch once the free slots fall below a quarter of the ring, so the
 * used index is not read every round.
 *
 * <p>RX: every ring entry has a buffer. A round takes every used chain there is (at most the
 * ring), counting a frame at its first buffer ({@code num_buffers} says how many follow); the
 * buffers go to a free stack. Once enough are free (never per frame) they are posted again
 * together: addresses taken from the stack, the ring written in one pass, one index store, one
 * kick decision. Taking all before refilling matters against a backend that sleeps when the
 * ring runs dry: each of its wake-ups then finds a ring's worth of buffers, not a burst's. No
 * buffer is ever allocated, so refilling cannot fail and never holds up receiving.
 *
 * <p>Both rings run with interrupts off; the pair's thread turns them on ({@link #armInterrupts()})
 * only before it sleeps.
 */
final class PairGenerator {
    private static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final int pair;
    private final Plan plan;
    private final boolean transmits;
    private final boolean receives;
    private final int burst;
    private final FrontendQueue rxQueue;
    private final FrontendQueue txQueue;
    private final DriverQueue rx;
    private final DriverQueue tx;
    private final DriverChain chain = new DriverChain(1);
    private final PublishedCounts published = new PublishedCounts();

    private final MemorySegment txSlots;
    private final long txSlotsGpa;
    private final int txSlotLength;
    /** Header and frame: what one TX descriptor covers. */
    private final int txLength;
    private final long txSequenceOffset;
    private final int frameSize;
    private final int[] txFree;
    private final int[] txSlotOf;
    private final int txReapThreshold;
    private int txFreeCount;
    private long sequence;

    private final MemorySegment rxBuffers;
    private final long rxBuffersGpa;
    private final int rxBufferLength;
    private final int headerSize;
    private final boolean mergeable;
    private final int[] rxFree;
    private final int[] rxSlotOf;
    private final int refillThreshold;
    private int rxFreeCount;
    /** Buffers still to come of the frame whose first buffer was taken last. */
    private int pendingBuffers;

    private long txPosted;
    private long txFrames;
    private long rxFrames;
    private long rxBytes;
    private long rxBad;
    private long kicks;
    private long wakeups;
    private long rounds;
    private long idleRounds;

    /**
     * @param txSlots the TX slots' guest memory, from guest-physical {@code txSlotsGpa}; unused without TX
     * @param rxBuffers the RX buffers' guest memory, from guest-physical {@code rxBuffersGpa}; unused without RX
     */
    PairGenerator(int pair, Plan plan, Mode mode, int burst, FrontendQueue rxQueue, FrontendQueue txQueue,
            MemorySegment txSlots, long txSlotsGpa, MemorySegment rxBuffers, long rxBuffersGpa, int frameSize) {
        this.pair = pair;
        this.plan = plan;
        this.transmits = mode.transmits();
        this.receives = mode.receives();
        this.burst = burst;
        this.rxQueue = rxQueue;
        this.txQueue = txQueue;
        this.rx = rxQueue.driver();
        this.tx = txQueue.driver();
        this.txSlots = txSlots;
        this.txSlotsGpa = txSlotsGpa;
        this.txSlotLength = plan.txSlotLength();
        this.headerSize = plan.headerSize();
        this.frameSize = frameSize;
        this.txLength = headerSize + frameSize;
        this.txSequenceOffset = headerSize + plan.txFrame().sequenceOffset();
        this.rxBuffers = rxBuffers;
        this.rxBuffersGpa = rxBuffersGpa;
        this.rxBufferLength = plan.rxBufferLength();
        this.mergeable = plan.mergeable();
        int size = tx.size();
        txFree = new int[size];
        txSlotOf = new int[size];
        txReapThreshold = Math.min(size, Math.max(burst, size / 4));
        rxFree = new int[rx.size()];
        rxSlotOf = new int[rx.size()];
        refillThreshold = refillThreshold(rx.size(), burst);
    }

    /**
     * How many RX buffers must be free before they are posted again: a burst, or an eighth of the
     * ring if that is more, but never more than half of it, so the backend always has buffers.
     */
    static int refillThreshold(int queueSize, int burst) {
        return Math.max(1, Math.min(queueSize / 2, Math.max(burst, queueSize / 8)));
    }

    /** Writes the TX frames and posts every RX buffer; before the backend runs the rings. */
    void start() throws NativeIoException {
        if (transmits) {
            for (int slot = 0; slot < txFree.length; slot++) {
                plan.txFrame().write(txSlots.asSlice((long) slot * txSlotLength, txSlotLength), headerSize, frameSize,
                        plan.mss());
                txFree[slot] = txFree.length - 1 - slot;
            }
            txFreeCount = txFree.length;
        }
        tx.disableInterrupts();
        if (receives) {
            for (int slot = 0; slot < rxFree.length; slot++) {
                rxFree[slot] = rxFree.length - 1 - slot;
            }
            rxFreeCount = rxFree.length;
            refill();
        }
        rx.disableInterrupts();
        publishCounts();
    }

    /**
     * One round: TX then RX, as the mode asks.
     *
     * @return the chains moved (posted or taken back); 0 when the backend gave nothing to do
     */
    int doWork() throws NativeIoException {
        int work = 0;
        if (transmits) {
            work += transmit();
        }
        if (receives) {
            work += reapRx();
            if (rxFreeCount >= refillThreshold) {
                work += refill();
            }
        }
        rounds++;
        if (work == 0) {
            idleRounds++;
        }
        publishCounts();
        return work;
    }

    /**
     * A round that posts no TX frame: how a run winds down. When the pair transmits too, RX
     * buffers are still posted, so that frames the backend holds (a loopback's backlog) come back;
     * a pair that only receives posts none, or a source would never let it finish.
     *
     * @return the chains taken back or posted
     */
    int windDown() throws NativeIoException {
        int work = reap();
        if (transmits && receives && rxFreeCount >= refillThreshold) {
            work += refill();
        }
        publishCounts();
        return work;
    }

    /** Takes back whatever the backend returned, posting nothing. */
    int reap() {
        int work = 0;
        if (transmits) {
            work += reapTx();
        }
        if (receives) {
            work += reapRx();
        }
        publishCounts();
        return work;
    }

    private int transmit() throws NativeIoException {
        int reaped = txFreeCount < txReapThreshold ? reapTx() : 0;
        int count = Math.min(burst, txFreeCount);
        for (int i = 0; i < count; i++) {
            int slot = txFree[--txFreeCount];
            long at = (long) slot * txSlotLength;
            txSlots.set(FrameKind.SEQUENCE, at + txSequenceOffset, sequence++);
            txSlotOf[added(tx.add(chain.clear().readable(txSlotsGpa + at, txLength), false))] = slot;
        }
        if (count > 0) {
            txPosted += count;
            if (txQueue.publish()) {
                kicks++;
            }
        }
        return reaped + count;
    }

    private int reapTx() {
        int reaped = 0;
        for (int id; (id = tx.takeUsed()) >= 0; reaped++) {
            txFree[txFreeCount++] = txSlotOf[id];
        }
        txFrames += reaped;
        return reaped;
    }

    /** Takes the used RX chains there are, at most a ring's worth: the backend refills nothing meanwhile. */
    private int reapRx() {
        int taken = 0;
        for (int id; taken < rxFree.length && (id = rx.takeUsed()) >= 0; taken++) {
            int length = rx.usedLength();
            int slot = rxSlotOf[id];
            rxFree[rxFreeCount++] = slot;
            if (pendingBuffers > 0) {
                pendingBuffers--;
                rxBytes += length;
                continue;
            }
            int buffers = mergeable
                    ? rxBuffers.get(LE16, (long) slot * rxBufferLength + VirtioNetHeader.NUM_BUFFERS_OFFSET) & 0xFFFF
                    : 1;
            if (length < headerSize || length > rxBufferLength || buffers == 0) {
                rxBad++;
                continue;
            }
            rxFrames++;
            rxBytes += length - headerSize;
            pendingBuffers = buffers - 1;
        }
        return taken;
    }

    /** Posts every free RX buffer, with one index store and at most one kick. */
    private int refill() throws NativeIoException {
        int count = rxFreeCount;
        for (int i = 0; i < count; i++) {
            int slot = rxFree[--rxFreeCount];
            long gpa = rxBuffersGpa + (long) slot * rxBufferLength;
            rxSlotOf[added(rx.add(chain.clear().writable(gpa, rxBufferLength), false))] = slot;
        }
        if (count > 0 && rxQueue.publish()) {
            kicks++;
        }
        return count;
    }

    /** One descriptor per chain and one chain per slot: the ring always has room for a free slot. */
    private int added(int id) {
        if (id < 0) {
            throw new IllegalStateException("queue pair " + pair + ": no room in the ring for a free slot");
        }
        return id;
    }

    /**
     * Before sleeping: asks for a call when the backend returns TX chains (once three quarters of
     * those in flight are back) or fills RX buffers, then looks once more.
     *
     * @return true when there is work already: do not sleep
     */
    boolean armInterrupts() {
        boolean ready = false;
        if (transmits) {
            ready = tx.enableInterruptsDelayed();
        }
        if (receives) {
            ready |= rx.enableInterrupts();
        }
        return ready;
    }

    /** After sleeping, or deciding not to: back to polling. */
    void disarmInterrupts(boolean slept) {
        tx.disableInterrupts();
        rx.disableInterrupts();
        if (slept) {
            wakeups++;
        }
    }

    private void publishCounts() {
        published.publish(txPosted, txFrames, txFrames * frameSize, rxFrames, rxBytes, rxBad, kicks, wakeups, rounds,
                idleRounds);
    }

    /** The counters as last published; any thread. */
    Counts counts() {
        return published.read();
    }

    /** TX frames posted and not returned; the pair's thread. */
    long txInFlight() {
        return txPosted - txFrames;
    }

    int pair() {
        return pair;
    }

    boolean transmits() {
        return transmits;
    }

    boolean receives() {
        return receives;
    }

    FrontendQueue rxQueue() {
        return rxQueue;
    }

    FrontendQueue txQueue() {
        return txQueue;
    }
}
