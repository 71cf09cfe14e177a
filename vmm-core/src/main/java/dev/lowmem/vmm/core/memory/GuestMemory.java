package dev.lowmem.vmm.core.memory;

import dev.lowmem.vmm.core.nativeio.Errno;
import dev.lowmem.vmm.core.nativeio.FileStatus;
import dev.lowmem.vmm.core.nativeio.LibC;
import dev.lowmem.vmm.core.nativeio.NativeIoException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A guest's memory table: every region mapped {@code MAP_SHARED} from the descriptor the frontend
 * passed ({@link #map}), or memory an embedding VMM mapped itself ({@link #of}), translating
 * guest-physical and frontend-virtual ranges into bounds-checked slices.
 *
 * <p>Each region is mapped in a shared {@link Arena} of its own ({@link RegionMapping}), so that a
 * table made from this one by adding or removing one region ({@link #withRegion},
 * {@link #withoutRegion}) maps or unmaps that region alone and holds the others' mappings too.
 * {@link #close()} retires the table: every region no other table holds is retired with it (its
 * arena closes, every slice of it ever handed out stops working, an access then throwing
 * {@link IllegalStateException} in whichever thread makes it rather than touching an unmapped
 * page, and it is unmapped); a region a newer table holds stays mapped for that table. Replacing a
 * table is: make the new one, swap it in, close the old one. Raw addresses taken from slices for
 * {@code readv}/{@code writev} are outside this protection: the datapath holds its queue's access
 * lock while it uses them.
 *
 * <p>Translation is thread-safe and read-only.
 */
public final class GuestMemory implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(GuestMemory.class.getName());
    private static final long MIN_ALIGNMENT = 4096;

    /** The regions in table order, each with its own lifetime. */
    private final RegionMapping[] mappings;
    private final MemorySegment[] regions;
    private final AddressSpace guestPhysical;
    private final AddressSpace frontendVirtual;
    /** Our mappings' host addresses in ascending order, each with its region's guest-physical start. */
    private final long[] hostStarts;
    private final long[] hostSizes;
    private final long[] hostGuestPhys;
    private final AtomicBoolean retired = new AtomicBoolean();

    private GuestMemory(RegionMapping[] mappings, AddressSpace guestPhysical, AddressSpace frontendVirtual) {
        this.mappings = mappings;
        this.guestPhysical = guestPhysical;
        this.frontendVirtual = frontendVirtual;
        regions = new MemorySegment[mappings.length];
        Integer[] order = new Integer[mappings.length];
        for (int i = 0; i < order.length; i++) {
            regions[i] = mappings[i].bytes();
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparing(i -> regions[i].address(), Long::compareUnsigned));
        hostStarts = new long[order.length];
        hostSizes = new long[order.length];
        hostGuestPhys = new long[order.length];
        for (int i = 0; i < order.length; i++) {
            hostStarts[i] = regions[order[i]].address();
            hostSizes[i] = regions[order[i]].byteSize();
            hostGuestPhys[i] = mappings[order[i]].guestPhysAddr();
        }
    }

    /**
     * Checks the table and maps every region. The descriptors stay the caller's to close; the
     * mappings outlive them.
     *
     * @throws InvalidMemoryTableException when a region is empty, wraps, overlaps another, or
     *         extends past the end of its file; nothing is mapped then
     * @throws NativeIoException when the kernel refuses a mapping; nothing stays mapped then
     */
    public static GuestMemory map(List<GuestRegion> table) throws InvalidMemoryTableException, NativeIoException {
        int count = table.size();
        long[] physStarts = new long[count];
        long[] virtStarts = new long[count];
        long[] sizes = new long[count];
        FileStatus[] files = new FileStatus[count];
        for (int i = 0; i < count; i++) {
            GuestRegion region = table.get(i);
            physStarts[i] = region.guestPhysAddr();
            virtStarts[i] = region.frontendVirtAddr();
            sizes[i] = region.size();
            files[i] = FileStatus.of(region.fd());
            checkFileHoldsRegion(i, region, files[i]);
        }
        AddressSpace guestPhysical = AddressSpace.of("guest physical", physStarts, sizes);
        AddressSpace frontendVirtual = AddressSpace.of("frontend virtual", virtStarts, sizes);

        RegionMapping[] mappings = new RegionMapping[count];
        try {
            for (int i = 0; i < count; i++) {
                mappings[i] = mapRegion(i, table.get(i), files[i]);
            }
        } catch (NativeIoException | RuntimeException e) {
            release(mappings);
            throw e;
        }
        return new GuestMemory(mappings, guestPhysical, frontendVirtual);
    }

    /**
     * This table and one region more, appended at its end in table order: only {@code added} is
     * mapped, the new table holds this one's mappings too, and this table stays as it was (close it
     * once nothing reads it any more; that unmaps none of the regions the new table holds). This is
     * how ADD_MEM_REG changes a table of hundreds of regions in the time one mapping takes.
     *
     * @throws InvalidMemoryTableException when the region is empty, wraps, overlaps a region of the
     *         table, or extends past the end of its file; nothing is mapped then
     * @throws NativeIoException when the kernel refuses the mapping
     */
    public GuestMemory withRegion(GuestRegion added) throws InvalidMemoryTableException, NativeIoException {
        int count = mappings.length;
        FileStatus file = FileStatus.of(added.fd());
        checkFileHoldsRegion(count, added, file);
        long[] physStarts = new long[count + 1];
        long[] virtStarts = new long[count + 1];
        long[] sizes = new long[count + 1];
        for (int i = 0; i < count; i++) {
            physStarts[i] = mappings[i].guestPhysAddr();
            virtStarts[i] = mappings[i].frontendVirtAddr();
            sizes[i] = regions[i].byteSize();
        }
        physStarts[count] = added.guestPhysAddr();
        virtStarts[count] = added.frontendVirtAddr();
        sizes[count] = added.size();
        AddressSpace nextPhysical = AddressSpace.of("guest physical", physStarts, sizes);
        AddressSpace nextVirtual = AddressSpace.of("frontend virtual", virtStarts, sizes);

        RegionMapping[] next = Arrays.copyOf(mappings, count + 1);
        next[count] = mapRegion(count, added, file);
        for (int i = 0; i < count; i++) {
            next[i].retain();
        }
        return new GuestMemory(next, nextPhysical, nextVirtual);
    }

    /**
     * This table without its region {@code index} (in table order; the regions after it move down
     * by one): nothing is mapped, the new table holds this one's other mappings, and the region
     * removed is unmapped when this table closes, unless another table still holds it.
     */
    public GuestMemory withoutRegion(int index) {
        Objects.checkIndex(index, mappings.length);
        RegionMapping[] next = new RegionMapping[mappings.length - 1];
        System.arraycopy(mappings, 0, next, 0, index);
        System.arraycopy(mappings, index + 1, next, index, next.length - index);
        for (RegionMapping mapping : next) {
            mapping.retain();
        }
        AddressSpace nextPhysical = guestPhysical.without(index);
        AddressSpace nextVirtual = frontendVirtual == guestPhysical ? nextPhysical : frontendVirtual.without(index);
        return new GuestMemory(next, nextPhysical, nextVirtual);
    }

    /**
     * A table over memory the caller mapped: an embedding VMM's guest RAM. Ring and buffer
     * addresses are guest-physical in both of the table's address spaces. The table sees the
     * regions through views of its own, so {@link #close()} retires those views (later accesses
     * fail as for a mapped table) and leaves the VMM's memory mapped: it stays the VMM's to free,
     * after the table is closed.
     *
     * @throws InvalidMemoryTableException when a region is empty, wraps or overlaps another
     */
    public static GuestMemory of(List<MappedRegion> table) throws InvalidMemoryTableException {
        int count = table.size();
        long[] physStarts = new long[count];
        long[] sizes = new long[count];
        for (int i = 0; i < count; i++) {
            physStarts[i] = table.get(i).guestPhysAddr();
            sizes[i] = table.get(i).bytes().byteSize();
            if (sizes[i] == 0) {
                throw new InvalidMemoryTableException("region " + i + ": size is 0");
            }
        }
        AddressSpace guestPhysical = AddressSpace.of("guest physical", physStarts, sizes);
        RegionMapping[] mappings = new RegionMapping[count];
        for (int i = 0; i < count; i++) {
            Arena arena = Arena.ofShared();
            MemorySegment view = MemorySegment.ofAddress(table.get(i).bytes().address()).reinterpret(sizes[i], arena, null);
            mappings[i] = new RegionMapping(arena, view, physStarts[i], physStarts[i]);
        }
        return new GuestMemory(mappings, guestPhysical, guestPhysical);
    }

    /** Touching a mapping past the end of its file raises SIGBUS, so such a region is refused up front. */
    private static void checkFileHoldsRegion(int index, GuestRegion region, FileStatus file) throws InvalidMemoryTableException {
        if (region.size() == 0) {
            throw new InvalidMemoryTableException("region " + index + ": size is 0");
        }
        long end = region.mmapOffset() + region.size();
        if (Long.compareUnsigned(end, region.mmapOffset()) < 0 || Long.compareUnsigned(end, file.size()) > 0) {
            throw new InvalidMemoryTableException("region " + index + ": mmap offset 0x"
                    + Long.toHexString(region.mmapOffset()) + " + size 0x" + Long.toHexString(region.size())
                    + " runs past the end of its file (0x" + Long.toHexString(file.size()) + " bytes)");
        }
    }

    /**
     * Maps the region, in an arena of its own, from the aligned file offset at or below its
     * {@code mmapOffset} (hugetlbfs needs huge-page alignment, which its block size gives) and
     * keeps the region's own bytes. The mapping's length is rounded up to the same alignment: the
     * kernel maps whole huge pages anyway, and {@code munmap} of hugetlbfs memory refuses a length
     * that is not a multiple.
     */
    private static RegionMapping mapRegion(int index, GuestRegion region, FileStatus file) throws NativeIoException {
        long alignment = Long.highestOneBit(Math.max(MIN_ALIGNMENT, file.blockSize()));
        long fileOffset = region.mmapOffset() & -alignment;
        long lead = region.mmapOffset() - fileOffset;
        long length = (lead + region.size() + alignment - 1) & -alignment;
        long address = LibC.mmap(0, length, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED | LibC.MAP_NORESERVE,
                region.fd().intValue(), fileOffset);
        if (address == LibC.MAP_FAILED) {
            throw new NativeIoException("mmap", "region " + index + " (0x" + Long.toHexString(length) + " bytes)",
                    Errno.last());
        }
        Arena arena = Arena.ofShared();
        MemorySegment mapping = MemorySegment.ofAddress(address)
                .reinterpret(length, arena, unmapped -> unmap(index, address, length));
        return new RegionMapping(arena, mapping.asSlice(lead, region.size()), region.guestPhysAddr(),
                region.frontendVirtAddr());
    }

    /** Lets go of the mappings made so far (nulls are the ones not made). */
    private static void release(RegionMapping[] mappings) {
        for (RegionMapping mapping : mappings) {
            if (mapping != null) {
                mapping.release();
            }
        }
    }

    /** Runs as the arena closes, where there is no caller to throw to: a failure is logged. */
    private static void unmap(int index, long address, long length) {
        if (LibC.munmap(address, length) < 0) {
            LOG.log(System.Logger.Level.ERROR, "munmap of region " + index + " at 0x" + Long.toHexString(address)
                    + " (0x" + Long.toHexString(length) + " bytes) failed: " + Errno.name(Errno.last()));
        }
    }

    /** Translates a guest-physical range (a descriptor's buffer, a ring in guest terms). */
    public Translation translate(long guestPhysAddr, long length) {
        return guestPhysical.translate(guestPhysAddr, length, regions);
    }

    /**
     * Appends the guest-physical range {@code [address, address+length)} to {@code list} without
     * allocating: one piece, or one per region where the range runs across adjacent regions.
     *
     * @return null when the whole range was appended; otherwise why not, with {@code list} unchanged
     */
    public AddressFault gather(long guestPhysAddr, long length, ScatterList list) {
        return guestPhysical.gather(guestPhysAddr, length, regions, list);
    }

    /** Translates a range of the frontend's virtual addresses (vhost-user's ring addresses). */
    public Translation translateFrontend(long frontendVirtAddr, long length) {
        return frontendVirtual.translate(frontendVirtAddr, length, regions);
    }

    /**
     * The guest-physical address of the byte at {@code hostAddress} in one of this table's
     * mappings (a piece of a {@link ScatterList} this table gathered, a ring it translated), or -1
     * when no region of the table holds it. Dirty-page logging speaks guest-physical addresses.
     * Allocation-free: a binary search over the regions by host address.
     */
    public long guestPhysAddrOf(long hostAddress) {
        int low = 0;
        int high = hostStarts.length - 1;
        while (low <= high) {
            int middle = (low + high) >>> 1;
            long offset = hostAddress - hostStarts[middle];
            if (Long.compareUnsigned(hostAddress, hostStarts[middle]) < 0) {
                high = middle - 1;
            } else if (Long.compareUnsigned(offset, hostSizes[middle]) >= 0) {
                low = middle + 1;
            } else {
                return hostGuestPhys[middle] + offset;
            }
        }
        return -1;
    }

    public int regionCount() {
        return regions.length;
    }

    public boolean isRetired() {
        return retired.get();
    }

    /**
     * Retires the table and every region of it no other table holds: later accesses through their
     * slices fail with {@link IllegalStateException}, including one racing with this call in
     * another thread, and they are unmapped. Calling it again does nothing.
     */
    @Override
    public void close() {
        if (retired.compareAndSet(false, true)) {
            release(mappings);
        }
    }
}
