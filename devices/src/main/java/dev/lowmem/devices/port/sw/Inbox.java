package dev.lowmem.devices.port.sw;

import dev.lowmem.devices.port.RxBuffers;
import dev.lowmem.devices.wire.VirtioNetHeader;
import dev.lowmem.vmm.core.nativeio.IovecArray;
import dev.lowmem.vmm.core.pool.PacketBuffer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The frames on their way to one switch port: a bounded multi-producer, single-consumer queue of
 * packets held in packet-pool buffers. Any sender's worker offers; the port's own worker peeks and
 * pops. It is Vyukov's bounded queue: each slot carries a sequence number that says whose turn it
 * is, a producer claims a slot by a compare-and-set on the tail and publishes it by storing the
 * slot's sequence, so producers never wait on one another beyond a retried CAS, the consumer takes
 * no atomic at all, and nothing is allocated.
 *
 * <p>The publish and the consumer's check are volatile (not just release and acquire) because
 * both sides follow them with a read of the other's flag ({@link Doorbell}, room waiters): a
 * Dekker-style handshake needs the store and the later load kept in order.
 */
final class Inbox {
    /** Frames held: a TAP's own queue is 500 to 1000, the RX backlog's 256. */
    static final int CAPACITY = 256;
    private static final int MASK = CAPACITY - 1;
    private static final VarHandle SEQUENCE = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle TAIL;
    private static final VarHandle HEAD;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            TAIL = lookup.findVarHandle(Inbox.class, "tail", long.class);
            HEAD = lookup.findVarHandle(Inbox.class, "head", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final long[] sequence = new long[CAPACITY];
    private final PacketBuffer[][] buffers;
    private final int[] bufferCounts = new int[CAPACITY];
    private final long[] lengths = new long[CAPACITY];
    /** Each slot's frame's virtio_net_hdr, 12 bytes with num_buffers 0: native, so that a TAP's writev can take it. */
    private final MemorySegment headers = Arena.ofAuto().allocate((long) CAPACITY * VirtioNetHeader.SIZE, Long.BYTES);
    @SuppressWarnings("unused") // Through TAIL.
    private volatile long tail;
    @SuppressWarnings("unused") // Through HEAD; written by the consumer alone.
    private volatile long head;

    /** @param maxBuffers the most buffers one frame may take */
    Inbox(int maxBuffers) {
        buffers = new PacketBuffer[CAPACITY][maxBuffers];
        for (int slot = 0; slot < CAPACITY; slot++) {
            sequence[slot] = slot;
        }
    }

    /**
     * Any thread: queues the packet in the first {@code count} of {@code frame}, which pass to
     * the inbox, with the offloads its {@code header} (10 or 12 bytes) asks for.
     *
     * @return false when the inbox is full; the buffers stay the caller's
     */
    boolean offer(PacketBuffer[] frame, int count, long length, MemorySegment header) {
        long position = (long) TAIL.getVolatile(this);
        int slot;
        while (true) {
            slot = (int) position & MASK;
            long difference = (long) SEQUENCE.getVolatile(sequence, slot) - position;
            if (difference == 0) {
                if (TAIL.compareAndSet(this, position, position + 1)) {
                    break;
                }
                position = (long) TAIL.getVolatile(this);
            } else if (difference < 0) {
                // The slot still holds the frame of one lap before: full.
                return false;
            } else {
                position = (long) TAIL.getVolatile(this);
            }
        }
        System.arraycopy(frame, 0, buffers[slot], 0, count);
        bufferCounts[slot] = count;
        lengths[slot] = length;
        // Offsets, not slices: a slice a frame would be an object a frame.
        long slotHeader = (long) slot * VirtioNetHeader.SIZE;
        MemorySegment.copy(header, 0, headers, slotHeader, VirtioNetHeader.LEGACY_SIZE);
        headers.set(ValueLayout.JAVA_SHORT_UNALIGNED, slotHeader + VirtioNetHeader.NUM_BUFFERS_OFFSET, (short) 0);
        SEQUENCE.setVolatile(sequence, slot, position + 1);
        return true;
    }

    /** Consumer: the oldest packet's length, 0 when none is published. */
    long peekLength() {
        long position = (long) HEAD.getOpaque(this);
        int slot = (int) position & MASK;
        return (long) SEQUENCE.getVolatile(sequence, slot) == position + 1 ? lengths[slot] : 0;
    }

    /**
     * Consumer: copies the oldest frame into {@code target}, its header's first
     * {@code headerSize} bytes, then the packet; after {@link #peekLength()} found it; what does
     * not fit is cut.
     */
    void copyOldestTo(RxBuffers target, int headerSize) {
        int slot = (int) (long) HEAD.getOpaque(this) & MASK;
        target.copyFrom(headers, (long) slot * VirtioNetHeader.SIZE, headerSize, 0);
        PacketBuffer[] frame = buffers[slot];
        long left = lengths[slot];
        long written = headerSize;
        for (int i = 0; i < bufferCounts[slot]; i++) {
            long chunk = Math.min(frame[i].capacity(), left);
            target.copyFrom(frame[i].segment(), 0, chunk, written);
            written += chunk;
            left -= chunk;
        }
    }

    /** Consumer: adds the oldest frame's 12-byte header and its packet's buffers to {@code iovecs}, for one {@code writev}. */
    void gatherOldest(IovecArray iovecs) {
        int slot = (int) (long) HEAD.getOpaque(this) & MASK;
        iovecs.add(headers.address() + (long) slot * VirtioNetHeader.SIZE, VirtioNetHeader.SIZE);
        PacketBuffer[] frame = buffers[slot];
        long left = lengths[slot];
        for (int i = 0; i < bufferCounts[slot]; i++) {
            long chunk = Math.min(frame[i].capacity(), left);
            iovecs.add(frame[i].address(), chunk);
            left -= chunk;
        }
    }

    /** Consumer: releases the oldest packet's buffers and frees its slot. */
    void pop() {
        long position = (long) HEAD.getOpaque(this);
        int slot = (int) position & MASK;
        PacketBuffer[] frame = buffers[slot];
        for (int i = 0; i < bufferCounts[slot]; i++) {
            frame[i].release();
            frame[i] = null;
        }
        SEQUENCE.setVolatile(sequence, slot, position + CAPACITY);
        HEAD.setVolatile(this, position + 1);
    }

    /** Frames queued or being queued; any thread, a moment's view. */
    int depth() {
        long depth = (long) TAIL.getVolatile(this) - (long) HEAD.getVolatile(this);
        return (int) Math.max(0, Math.min(CAPACITY, depth));
    }

    /** Whether no frame is queued or being queued; any thread, a moment's view. */
    boolean isEmpty() {
        return (long) TAIL.getVolatile(this) == (long) HEAD.getVolatile(this);
    }

    boolean isFull() {
        return depth() >= CAPACITY;
    }
}
