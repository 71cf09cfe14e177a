package dev.lowmem.vmm.core.memory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * An ordered list of pieces of mapped guest memory: the buffers of a descriptor chain, one piece
 * per buffer, or several where a buffer spans adjacent memory regions.
 *
 * <p>A piece is kept as (region, offset, length) in preallocated arrays, so filling, reading and
 * clearing the list allocates nothing; one list is made per queue and reused for every chain.
 * {@link #address(int)} gives the raw address for {@code readv}/{@code writev}; everything else
 * goes through the region's bounds-checked segment and fails cleanly once the memory table is
 * retired. Not thread-safe: it belongs to the worker that fills it.
 */
public final class ScatterList {
    private static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment[] regions;
    private final long[] offsets;
    private final long[] lengths;
    private int count;
    private long totalLength;

    public ScatterList(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity " + capacity + " is not positive");
        }
        regions = new MemorySegment[capacity];
        offsets = new long[capacity];
        lengths = new long[capacity];
    }

    /** Appends {@code length} bytes at {@code offset} of {@code region}; false when the list is full. */
    boolean add(MemorySegment region, long offset, long length) {
        if (count == regions.length) {
            return false;
        }
        // A reference store costs the collector's write barrier; the slot mostly holds this region
        // already (a guest has few), since truncate leaves it there.
        if (regions[count] != region) {
            regions[count] = region;
        }
        offsets[count] = offset;
        lengths[count] = length;
        count++;
        totalLength += length;
        return true;
    }

    /**
     * Appends piece {@code piece} of {@code source}: how a device lays the writable buffers of
     * several chains end to end for one frame.
     *
     * @return false, and nothing added, when this list is full
     */
    public boolean addPieceOf(ScatterList source, int piece) {
        source.checkIndex(piece);
        return add(source.regions[piece], source.offsets[piece], source.lengths[piece]);
    }

    /**
     * Appends the whole of {@code buffer} as one piece: for memory outside any memory table, such
     * as a port's own buffers or a test's, where {@link GuestMemory#gather} has nothing to
     * translate. {@link #address(int)} is meaningful only when {@code buffer} is native.
     *
     * @return false, and nothing appended, when the list is full
     */
    public boolean add(MemorySegment buffer) {
        return add(buffer, 0, buffer.byteSize());
    }

    /**
     * Drops the pieces from index {@code newCount} on: undoes a partly gathered buffer or chain.
     * The dropped pieces' regions stay referenced until overwritten: a retired table's segments
     * are small views whose memory is unmapped when their arena closes, and not clearing them
     * spares the datapath a reference store (a collector barrier) per piece.
     */
    public void truncate(int newCount) {
        if (newCount < 0 || newCount > count) {
            throw new IndexOutOfBoundsException("cannot truncate " + count + " pieces to " + newCount);
        }
        if (newCount == 0) {
            totalLength = 0;
        } else {
            for (int i = newCount; i < count; i++) {
                totalLength -= lengths[i];
            }
        }
        count = newCount;
    }

    public void clear() {
        truncate(0);
    }

    public int count() {
        return count;
    }

    /** The sum of the pieces' lengths. */
    public long totalLength() {
        return totalLength;
    }

    public long length(int piece) {
        checkIndex(piece);
        return lengths[piece];
    }

    /** The piece's first byte as a raw address, for an iovec; valid only while the table is mapped. */
    public long address(int piece) {
        checkIndex(piece);
        return regions[piece].address() + offsets[piece];
    }

    /** The mapped region holding the piece (with {@link #offset(int)}: read it without a slice). */
    public MemorySegment region(int piece) {
        checkIndex(piece);
        return regions[piece];
    }

    public long offset(int piece) {
        checkIndex(piece);
        return offsets[piece];
    }

    /** The piece as its own bounds-checked slice (this allocates a segment view). */
    public MemorySegment slice(int piece) {
        checkIndex(piece);
        return regions[piece].asSlice(offsets[piece], lengths[piece]);
    }

    /**
     * Copies {@code destination.byteSize()} bytes starting {@code position} bytes into the list
     * (counting from the first piece at or after {@code fromPiece}) into {@code destination}.
     *
     * @return the bytes copied: fewer than asked when the pieces end first
     */
    public long copyTo(int fromPiece, long position, MemorySegment destination) {
        return copyTo(fromPiece, position, destination, 0, destination.byteSize());
    }

    /**
     * Copies {@code length} bytes starting {@code position} bytes into the list (counting from the
     * first piece at or after {@code fromPiece}) into {@code destination} at {@code offset}: the
     * datapath's form, which makes no slice (a slice is an allocation).
     *
     * @return the bytes copied: fewer than {@code length} when the pieces end first
     */
    public long copyTo(int fromPiece, long position, MemorySegment destination, long offset, long length) {
        return transfer(fromPiece, position, destination, offset, length, true);
    }

    /**
     * Copies {@code source} into the pieces from {@code fromPiece} on, starting {@code position}
     * bytes in.
     *
     * @return the bytes copied: fewer than {@code source.byteSize()} when the pieces end first
     */
    public long copyFrom(MemorySegment source, int fromPiece, long position) {
        return copyFrom(source, 0, source.byteSize(), fromPiece, position);
    }

    /**
     * Copies {@code length} bytes of {@code source} from {@code offset} into the pieces from
     * {@code fromPiece} on, starting {@code position} bytes in; no slice made.
     *
     * @return the bytes copied: fewer than {@code length} when the pieces end first
     */
    public long copyFrom(MemorySegment source, long offset, long length, int fromPiece, long position) {
        return transfer(fromPiece, position, source, offset, length, false);
    }

    /**
     * Copies {@code length} bytes starting {@code position} bytes into this list to
     * {@code destination}, starting {@code destinationPosition} bytes into it: one guest's
     * buffers straight into another's, walking both lists once, with no buffer between.
     *
     * @return the bytes copied: fewer than {@code length} when either list ends first
     */
    public long copyTo(long position, ScatterList destination, long destinationPosition, long length) {
        int from = 0;
        long fromSkip = position;
        int to = 0;
        long toSkip = destinationPosition;
        long done = 0;
        while (done < length) {
            while (from < count && fromSkip >= lengths[from]) {
                fromSkip -= lengths[from++];
            }
            while (to < destination.count && toSkip >= destination.lengths[to]) {
                toSkip -= destination.lengths[to++];
            }
            if (from == count || to == destination.count) {
                break;
            }
            long chunk = Math.min(length - done, Math.min(lengths[from] - fromSkip, destination.lengths[to] - toSkip));
            MemorySegment.copy(regions[from], offsets[from] + fromSkip,
                    destination.regions[to], destination.offsets[to] + toSkip, chunk);
            fromSkip += chunk;
            toSkip += chunk;
            done += chunk;
        }
        return done;
    }

    /**
     * Writes {@code value} little-endian (virtio's byte order) {@code position} bytes into the
     * list: one store when a piece holds both bytes, as a header field's does, else a byte in each.
     *
     * @throws IndexOutOfBoundsException when the pieces end before the second byte
     */
    public void putShortLE(long position, short value) {
        int piece = 0;
        long skip = position;
        while (piece < count && skip >= lengths[piece]) {
            skip -= lengths[piece++];
        }
        checkIndex(piece);
        if (lengths[piece] - skip >= Short.BYTES) {
            regions[piece].set(LE16, offsets[piece] + skip, value);
            return;
        }
        regions[piece].set(ValueLayout.JAVA_BYTE, offsets[piece] + skip, (byte) value);
        do {
            piece++;
            checkIndex(piece);
        } while (lengths[piece] == 0);
        regions[piece].set(ValueLayout.JAVA_BYTE, offsets[piece], (byte) (value >> 8));
    }

    private long transfer(int fromPiece, long position, MemorySegment outside, long outsideOffset, long wanted,
            boolean toOutside) {
        long done = 0;
        long skip = position;
        for (int i = fromPiece; i < count && done < wanted; i++) {
            if (skip >= lengths[i]) {
                skip -= lengths[i];
                continue;
            }
            long chunk = Math.min(lengths[i] - skip, wanted - done);
            if (toOutside) {
                MemorySegment.copy(regions[i], offsets[i] + skip, outside, outsideOffset + done, chunk);
            } else {
                MemorySegment.copy(outside, outsideOffset + done, regions[i], offsets[i] + skip, chunk);
            }
            done += chunk;
            skip = 0;
        }
        return done;
    }

    private void checkIndex(int piece) {
        if (piece < 0 || piece >= count) {
            throw new IndexOutOfBoundsException("piece " + piece + " of " + count);
        }
    }
}
