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
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A guest's memory table: every region mapped {@code MAP_SHARED} from the descriptor the frontend
 * passed ({@link #map}), or memory an embedding VMM mapped itself ({@link #of}), translating
 * guest-physical and frontend-virtual ranges into bounds-checked slices.
 *
 * <p>All mappings of a table belong to one shared {@link Arena}. {@link #close()} retires the
 * table: the arena closes, every slice ever handed out stops working (an access then throws
 * {@link IllegalStateException}, in whichever thread makes it, rather than touching an unmapped
 * page), and the regions are unmapped. Replacing a table is: map the new one, swap it in, close the
 * old one. Raw addresses taken from slices for {@code readv}/{@code writev} are outside this
 * protection: the datapath holds its queue's access lock while it uses them.
 *
 * <p>Translation is thread-safe and read-only.
 */
public final class GuestMemory implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(GuestMemory.class.getName());
    private static final long MIN_ALIGNMENT = 4096;

    private final Arena arena;
    private final MemorySegment[] regions;
    private final AddressSpace guestPhysical;
    private final AddressSpace frontendVirtual;
    /** Our mappings' host addresses in ascending order, each with its region's guest-physical start. */
    private final long[] hostStarts;
    private final long[] hostSizes;
    private final long[] hostGuestPhys;
    private final AtomicBoolean retired = new AtomicBoolean();

    private GuestMemory(Arena arena, MemorySegment[] regions, long[] guestPhysStarts, AddressSpace guestPhysical,
            AddressSpace frontendVirtual) {
        this.arena = arena;
        this.regions = regions;
        this.guestPhysical = guestPhysical;
        this.frontendVirtual = frontendVirtual;
        Integer[] order = new Integer[regions.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparing(i -> regions[i].address(), Long::compareUnsigned));
        hostStarts = new long[order.length];
        hostSizes = new long[order.length];
        hostGuestPhys = new long[order.length];
        for (int i = 0; i < order.length; i++) {
            hostStarts[i] = regions[order[i]].address();
            hostSizes[i] = regions[order[i]].byteSize();
            hostGuestPhys[i] = guestPhysStarts[order[i]];
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

        Arena arena = Arena.ofShared();
        MemorySegment[] regions = new MemorySegment[count];
        try {
            for (int i = 0; i < count; i++) {
                regions[i] = mapRegion(i, table.get(i), files[i], arena);
            }
        } catch (NativeIoException | RuntimeException e) {
            arena.close();
            throw e;
        }
        return new GuestMemory(arena, regions, physStarts, guestPhysical, frontendVirtual);
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
        Arena arena = Arena.ofShared();
        MemorySegment[] regions = new MemorySegment[count];
        for (int i = 0; i < count; i++) {
            regions[i] = MemorySegment.ofAddress(table.get(i).bytes().address()).reinterpret(sizes[i], arena, null);
        }
        return new GuestMemory(arena, regions, physStarts, guestPhysical, guestPhysical);
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
     * Maps the region from the aligned file offset at or below its {@code mmapOffset} (hugetlbfs
     * needs huge-page alignment, which its block size gives) and returns the region's own bytes.
     * The mapping's length is rounded up to the same alignment: the kernel maps whole huge pages
     * anyway, and {@code munmap} of hugetlbfs memory refuses a length that is not a multiple.
     */
    private static MemorySegment mapRegion(int index, GuestRegion region, FileStatus file, Arena arena) throws NativeIoException {
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
        MemorySegment mapping = MemorySegment.ofAddress(address)
                .reinterpret(length, arena, unmapped -> unmap(index, address, length));
        return mapping.asSlice(lead, region.size());
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
     * Retires the table: later accesses through its slices fail with {@link IllegalStateException},
     * including one racing with this call in another thread, and the regions are unmapped.
     * Calling it again does nothing.
     */
    @Override
    public void close() {
        if (retired.compareAndSet(false, true)) {
            arena.close();
        }
    }
}
