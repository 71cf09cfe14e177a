package dev.lowmem.vmm.core.memory;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Comparator;

/**
 * The regions of one memory table ordered by their start in one address space (guest-physical,
 * or the frontend's virtual addresses), for a binary search per translation. Addresses and
 * lengths are unsigned 64-bit values.
 */
final class AddressSpace {
    private final long[] starts;
    private final long[] sizes;
    /** {@code regions[i]} is the table index of the i-th region in address order. */
    private final int[] regions;

    private AddressSpace(long[] starts, long[] sizes, int[] regions) {
        this.starts = starts;
        this.sizes = sizes;
        this.regions = regions;
    }

    /**
     * Orders regions given in table order by start address.
     *
     * @throws InvalidMemoryTableException when a region wraps past 2^64 or two regions overlap
     */
    static AddressSpace of(String spaceName, long[] tableStarts, long[] tableSizes) throws InvalidMemoryTableException {
        int count = tableStarts.length;
        Integer[] order = new Integer[count];
        for (int i = 0; i < count; i++) {
            order[i] = i;
            if (Long.compareUnsigned(tableStarts[i] + tableSizes[i], tableStarts[i]) < 0) {
                throw new InvalidMemoryTableException("region " + i + ": " + spaceName + " "
                        + AddressFault.ADDRESS_OVERFLOW.describe(tableStarts[i], tableSizes[i]));
            }
        }
        Arrays.sort(order, Comparator.comparing(i -> tableStarts[i], Long::compareUnsigned));
        long[] starts = new long[count];
        long[] sizes = new long[count];
        int[] regions = new int[count];
        for (int i = 0; i < count; i++) {
            int region = order[i];
            starts[i] = tableStarts[region];
            sizes[i] = tableSizes[region];
            regions[i] = region;
            if (i > 0 && Long.compareUnsigned(starts[i - 1] + sizes[i - 1], starts[i]) > 0) {
                throw new InvalidMemoryTableException("region " + region + ": " + spaceName + " 0x"
                        + Long.toHexString(starts[i]) + "+" + Long.toUnsignedString(sizes[i])
                        + " overlaps region " + regions[i - 1]);
            }
        }
        return new AddressSpace(starts, sizes, regions);
    }

    /**
     * The same space without table region {@code region}; the regions after it in table order move
     * down by one, as they do in the table. What was ordered and apart stays so: nothing to check.
     */
    AddressSpace without(int region) {
        int count = starts.length - 1;
        long[] nextStarts = new long[count];
        long[] nextSizes = new long[count];
        int[] nextRegions = new int[count];
        int next = 0;
        for (int i = 0; i < starts.length; i++) {
            if (regions[i] != region) {
                nextStarts[next] = starts[i];
                nextSizes[next] = sizes[i];
                nextRegions[next] = regions[i] > region ? regions[i] - 1 : regions[i];
                next++;
            }
        }
        return new AddressSpace(nextStarts, nextSizes, nextRegions);
    }

    /** Translates {@code [address, address+length)} to a slice of {@code mappings[region]}, or says why not. */
    Translation translate(long address, long length, MemorySegment[] mappings) {
        if (Long.compareUnsigned(address + length, address) < 0) {
            return new Translation.Fault(AddressFault.ADDRESS_OVERFLOW, address, length);
        }
        int i = lastStartingAtOrBelow(address);
        long offset = address - (i < 0 ? 0 : starts[i]);
        if (i < 0 || Long.compareUnsigned(offset, sizes[i]) >= 0) {
            return new Translation.Fault(AddressFault.OUTSIDE_MEMORY, address, length);
        }
        if (Long.compareUnsigned(length, sizes[i] - offset) > 0) {
            return new Translation.Fault(AddressFault.CROSSES_REGION_END, address, length);
        }
        return new Translation.Mapped(mappings[regions[i]].asSlice(offset, length));
    }

    /**
     * Appends {@code [address, address+length)} to {@code list}, one piece per region it touches:
     * a range may run from one region into the next when they are adjacent. An empty range holds no
     * bytes and appends nothing.
     *
     * @return null when the whole range is in the list; otherwise why not, with the list as it was
     */
    AddressFault gather(long address, long length, MemorySegment[] mappings, ScatterList list) {
        if (Long.compareUnsigned(address + length, address) < 0) {
            return AddressFault.ADDRESS_OVERFLOW;
        }
        if (length == 0) {
            return null;
        }
        int before = list.count();
        int i = lastStartingAtOrBelow(address);
        long next = address;
        long remaining = length;
        do {
            long offset = next - (i < 0 ? 0 : starts[i]);
            if (i < 0 || Long.compareUnsigned(offset, sizes[i]) >= 0) {
                list.truncate(before);
                return AddressFault.OUTSIDE_MEMORY;
            }
            long piece = Long.compareUnsigned(remaining, sizes[i] - offset) <= 0 ? remaining : sizes[i] - offset;
            if (!list.add(mappings[regions[i]], offset, piece)) {
                list.truncate(before);
                return AddressFault.TOO_MANY_PIECES;
            }
            next += piece;
            remaining -= piece;
            i++;
        } while (remaining != 0 && i < starts.length && starts[i] == next);
        if (remaining != 0) {
            list.truncate(before);
            return AddressFault.CROSSES_REGION_END;
        }
        return null;
    }

    /** Index of the region with the greatest start not above {@code address}, or -1. */
    private int lastStartingAtOrBelow(long address) {
        int low = 0;
        int high = starts.length - 1;
        int found = -1;
        while (low <= high) {
            int middle = (low + high) >>> 1;
            if (Long.compareUnsigned(starts[middle], address) <= 0) {
                found = middle;
                low = middle + 1;
            } else {
                high = middle - 1;
            }
        }
        return found;
    }
}
