package dev.lowmem.virtio.queue;

import dev.lowmem.vmm.core.memory.AddressFault;
import dev.lowmem.vmm.core.memory.DirtyLog;
import dev.lowmem.vmm.core.memory.GuestMemory;
import dev.lowmem.vmm.core.memory.ScatterList;

/**
 * One descriptor chain popped from a {@link DeviceQueue}: its buffers as pieces of guest memory,
 * the device-readable ones first, then the device-writable ones.
 *
 * <p>A chain object is scratch: the device makes a few per queue ({@link DeviceQueue#newChain()})
 * and every pop refills one, so popping allocates nothing. A chain the guest got wrong comes back
 * from {@code pop} with {@link #error()} set and no buffers; the device returns it with written
 * length 0 and counts the error.
 */
public final class DescriptorChain {
    /**
     * The most pieces a chain may have, as Linux's vhost (UIO_MAXIOV): a longer chain is refused
     * as {@link ChainError#CHAIN_TOO_LONG}, and every chain fits in one {@code writev}.
     */
    public static final int MAX_PIECES = 1024;

    private final ScatterList buffers;
    private int head;
    private int ringSlots;
    /** Packed rings with INFLIGHT_SHMFD: the chain's head entry in the inflight region; set by every pop then. */
    private int inflightEntry;
    private int firstWritable;
    private boolean sawWritable;
    private long readableLength;
    private ChainError error;
    private int errorDescriptor;
    private long errorAddress;
    private long errorLength;

    DescriptorChain() {
        buffers = new ScatterList(MAX_PIECES);
    }

    void reset() {
        head = 0;
        ringSlots = 0;
        buffers.clear();
        firstWritable = 0;
        sawWritable = false;
        readableLength = 0;
        error = null;
    }

    /**
     * Appends one descriptor's buffer, checking it the way every layout needs: inside guest memory
     * and, if device-readable, not after a writable one. An empty buffer adds nothing.
     *
     * @return false when the buffer is refused; {@link #error()} says why
     */
    boolean addBuffer(GuestMemory memory, int descriptor, long address, long length, boolean writable) {
        if (!writable && sawWritable) {
            return fail(ChainError.READABLE_AFTER_WRITABLE, descriptor, address, length);
        }
        AddressFault fault = memory.gather(address, length, buffers);
        if (fault != null) {
            return fail(fault == AddressFault.TOO_MANY_PIECES ? ChainError.CHAIN_TOO_LONG
                    : ChainError.BUFFER_OUTSIDE_MEMORY, descriptor, address, length);
        }
        if (writable) {
            sawWritable = true;
        } else {
            firstWritable = buffers.count();
            readableLength += length;
        }
        return true;
    }

    /**
     * Marks the chain malformed and drops its buffers: nothing of it may reach a port.
     * {@code descriptor}, {@code address} and {@code length} are the offending descriptor's, for the log.
     */
    boolean fail(ChainError reason, int descriptor, long address, long length) {
        error = reason;
        errorDescriptor = descriptor;
        errorAddress = address;
        errorLength = length;
        buffers.clear();
        firstWritable = 0;
        readableLength = 0;
        return false;
    }

    /** A device may claim no more written bytes than the chain's writable buffers hold. */
    void checkWrittenLength(int writtenLength) {
        if (writtenLength < 0 || writtenLength > writableLength()) {
            throw new IllegalArgumentException("written length " + writtenLength + " for a chain with "
                    + writableLength() + " writable bytes");
        }
    }

    /**
     * Marks in {@code log} the pages of the first {@code writtenLength} bytes of the writable
     * buffers, by their guest-physical addresses in {@code memory}, the table they were gathered
     * from. Allocation-free.
     */
    void logWritten(DirtyLog log, GuestMemory memory, long writtenLength) {
        long left = writtenLength;
        for (int piece = firstWritable; piece < buffers.count() && left > 0; piece++) {
            long length = Math.min(left, buffers.length(piece));
            long guestPhysAddr = memory.guestPhysAddrOf(buffers.address(piece));
            if (guestPhysAddr >= 0) {
                log.mark(guestPhysAddr, length);
            }
            left -= length;
        }
    }

    void setHead(int head) {
        this.head = head;
    }

    void setInflightEntry(int entry) {
        this.inflightEntry = entry;
    }

    int inflightEntry() {
        return inflightEntry;
    }

    void setRingSlots(int ringSlots) {
        this.ringSlots = ringSlots;
    }

    /** The id the device returns the chain under: the head index (split) or buffer id (packed). */
    public int head() {
        return head;
    }

    /** How many ring descriptors the chain took (an indirect chain takes one). */
    int ringSlots() {
        return ringSlots;
    }

    /** Null for a well-formed chain; otherwise what was wrong with it. */
    public ChainError error() {
        return error;
    }

    /**
     * "chain 3, descriptor 17 (0x7f0000+4096): a buffer is not inside guest memory"; for the log
     * only, it allocates. The descriptor is an index into the table it was read from (an indirect
     * table's, once the chain went indirect).
     */
    public String describeError() {
        return error == null ? "no error" : "chain " + head + ", descriptor " + errorDescriptor + " (0x"
                + Long.toHexString(errorAddress) + "+" + Long.toUnsignedString(errorLength) + "): " + error.description();
    }

    /** All buffers, readable pieces {@code [0, firstWritablePiece())}, writable ones after. */
    public ScatterList buffers() {
        return buffers;
    }

    public int firstWritablePiece() {
        return firstWritable;
    }

    public long readableLength() {
        return readableLength;
    }

    public long writableLength() {
        return buffers.totalLength() - readableLength;
    }
}
