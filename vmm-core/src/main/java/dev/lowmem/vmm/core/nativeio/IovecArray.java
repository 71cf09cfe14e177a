package dev.lowmem.vmm.core.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A reusable, off-heap array of {@code struct iovec} for {@code readv}/{@code writev}: made once
 * when a queue starts, refilled per frame, never allocated on the datapath.
 *
 * <pre>
 * struct iovec {            offset
 *     void  *iov_base;      0
 *     size_t iov_len;       8
 * };                        size 16
 * </pre>
 *
 * <p>The addresses added are raw: the caller keeps the memory behind them mapped until the
 * {@code readv}/{@code writev} has returned. Not thread-safe; one array belongs to one worker.
 */
public final class IovecArray {
    /** The kernel's limit on iovecs per call (UIO_MAXIOV). */
    public static final int IOV_MAX = 1024;

    static final long BASE_OFFSET = 0;
    static final long LENGTH_OFFSET = 8;
    static final long SIZE = 16;

    private final MemorySegment entries;
    private final int capacity;
    private int count;
    private long totalLength;

    public IovecArray(Arena arena, int capacity) {
        if (capacity < 1 || capacity > IOV_MAX) {
            throw new IllegalArgumentException("iovec capacity " + capacity + " is outside 1.." + IOV_MAX);
        }
        // One entry more than the capacity, for the spill of readv(fd, spill).
        this.entries = arena.allocate(SIZE * (capacity + 1), Long.BYTES);
        this.capacity = capacity;
    }

    /** Appends {@code [address, address+length)}; false, and nothing added, when the array is full. */
    public boolean add(long address, long length) {
        if (count == capacity) {
            return false;
        }
        long entry = count * SIZE;
        entries.set(ValueLayout.JAVA_LONG, entry + BASE_OFFSET, address);
        entries.set(ValueLayout.JAVA_LONG, entry + LENGTH_OFFSET, length);
        count++;
        totalLength += length;
        return true;
    }

    /** Appends the whole of {@code buffer}, which must be native memory. */
    public boolean add(MemorySegment buffer) {
        return add(buffer.address(), buffer.byteSize());
    }

    public void clear() {
        count = 0;
        totalLength = 0;
    }

    public int count() {
        return count;
    }

    public int capacity() {
        return capacity;
    }

    /** The sum of the lengths added since the last {@link #clear()}. */
    public long totalLength() {
        return totalLength;
    }

    /** Scatters one read from {@code fd} over the array: bytes read, or 0 if a non-blocking fd has none. */
    public long readv(FileDescriptor fd) throws NativeIoException {
        return Errors.checkOrAgain("readv", LibC.readv(fd.intValue(), entries.address(), count));
    }

    /**
     * Scatters one read from {@code fd} over the array and then over {@code spill}, for a device
     * that cuts what does not fit and returns only what it stored (a TAP): a result above
     * {@link #totalLength()} says the data did not fit the array. The spill is not kept in the
     * array; with it the array may hold at most {@code IOV_MAX - 1} entries, or the kernel refuses
     * the read (EINVAL).
     *
     * @param spill native memory the rest of the data may land in, of which the caller reads nothing
     * @return bytes read, counting those in the spill, or 0 if a non-blocking fd has none
     */
    public long readv(FileDescriptor fd, MemorySegment spill) throws NativeIoException {
        long entry = count * SIZE;
        entries.set(ValueLayout.JAVA_LONG, entry + BASE_OFFSET, spill.address());
        entries.set(ValueLayout.JAVA_LONG, entry + LENGTH_OFFSET, spill.byteSize());
        return Errors.checkOrAgain("readv", LibC.readv(fd.intValue(), entries.address(), count + 1));
    }

    /** Gathers the array into one write to {@code fd}: bytes written, or 0 if a non-blocking fd is full. */
    public long writev(FileDescriptor fd) throws NativeIoException {
        return Errors.checkOrAgain("writev", LibC.writev(fd.intValue(), entries.address(), count));
    }
}
