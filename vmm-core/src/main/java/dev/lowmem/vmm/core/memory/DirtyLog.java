package dev.lowmem.vmm.core.memory;

import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * A front-end's dirty-page log, the bitmap vhost-user's SET_LOG_BASE hands over for live
 * migration (docs/interop/vhost-user.rst, "Migration"): one bit per 4 KiB page of guest-physical
 * address space, page {@code p} at bit {@code p % 8} of byte {@code p / 8} from the log's start.
 * The back-end sets the bit of every page it writes; the front-end collects and clears the bits
 * concurrently (QEMU exchanges each 64-bit word with 0), so every bit is set with an atomic OR,
 * never a plain store that could undo a clearing or lose another writer's bit.
 *
 * <p>The bitmap is read as little-endian 64-bit words (byte {@code j} of a word holds pages
 * {@code 8j} to {@code 8j+7}, the spec's order), aligned in our mapping, which starts on a page:
 * a log at any offset in its file is marked with one aligned atomic per word. Pages past the
 * log's end are not marked (a write the log cannot describe; the front-end sized it to cover
 * guest memory). {@link #mark} allocates nothing and is safe from any thread; closing is the
 * owner's, once no thread marks any more.
 */
public final class DirtyLog implements AutoCloseable {
    /** The log's page: VHOST_LOG_PAGE. */
    public static final long PAGE_SIZE = 0x1000;
    private static final int PAGE_SHIFT = 12;
    private static final VarHandle WORD = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();

    private final SharedMapping shared;
    /** The whole mapping, from a page boundary: its words are 8-byte aligned. */
    private final MemorySegment mapping;
    /** The bit of the mapping that is page 0's. */
    private final long firstBit;
    /** How many pages the log covers: 8 per byte. */
    private final long pages;

    private DirtyLog(SharedMapping shared, MemorySegment mapping, long firstBit, long pages) {
        this.shared = shared;
        this.mapping = mapping;
        this.firstBit = firstBit;
        this.pages = pages;
    }

    /**
     * Maps {@code size} bytes of log from {@code offset} in {@code fd} (SET_LOG_BASE's mmap_size
     * and mmap_offset). The fd stays the caller's to close; the mapping outlives it.
     *
     * @throws IllegalArgumentException when the log is empty or runs past the end of its file
     *         (touching that would raise SIGBUS)
     * @throws NativeIoException when the kernel refuses the mapping
     */
    public static DirtyLog map(FileDescriptor fd, long size, long offset) throws NativeIoException {
        // Whole words: the last word may reach past the log's last byte, never past the mapping's page.
        SharedMapping shared = SharedMapping.map(fd, size, offset, "dirty log");
        return new DirtyLog(shared, shared.pages(), shared.lead() * Byte.SIZE, size * Byte.SIZE);
    }

    /** How many pages the log covers. */
    public long pages() {
        return pages;
    }

    /**
     * Marks every page that {@code [guestPhysAddr, guestPhysAddr + length)} touches, after the
     * bytes were written (the front-end may collect the page at once). An empty range marks
     * nothing; pages past the log's end are left out.
     */
    public void mark(long guestPhysAddr, long length) {
        if (length <= 0) {
            return;
        }
        long first = guestPhysAddr >>> PAGE_SHIFT;
        long last = (guestPhysAddr + length - 1) >>> PAGE_SHIFT;
        if (Long.compareUnsigned(last, first) < 0 || Long.compareUnsigned(last, pages) >= 0) {
            // Wrapped past 2^64, or runs past the log: mark what the log has.
            last = pages - 1;
        }
        if (Long.compareUnsigned(first, last) > 0) {
            return;
        }
        long bit = firstBit + first;
        long lastBit = firstBit + last;
        while (bit <= lastBit) {
            long word = bit >>> 6;
            int from = (int) (bit & 63);
            int to = (int) Math.min(63, lastBit - (word << 6));
            long mask = (-1L >>> (63 - to)) & (-1L << from);
            WORD.getAndBitwiseOr(mapping, word << 3, mask);
            bit = (word + 1) << 6;
        }
    }

    /** Whether the page holding {@code guestPhysAddr} is marked: for tests, and a front-end's reading. */
    public boolean isMarked(long guestPhysAddr) {
        long page = guestPhysAddr >>> PAGE_SHIFT;
        if (Long.compareUnsigned(page, pages) >= 0) {
            return false;
        }
        long bit = firstBit + page;
        return ((long) WORD.getVolatile(mapping, (bit >>> 6) << 3) & (1L << (bit & 63))) != 0;
    }

    /** Unmaps the log; no thread may mark it any more. */
    @Override
    public void close() {
        shared.close();
    }
}
