package dev.lowmem.virtio.vhostuser;

import dev.lowmem.vmm.core.memory.GuestMemory;
import dev.lowmem.vmm.core.memory.GuestRegion;
import dev.lowmem.vmm.core.memory.InvalidMemoryTableException;
import dev.lowmem.vmm.core.memory.Memfd;
import dev.lowmem.vmm.core.memory.Translation;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Guest memory as a front-end holds it: one memfd, guest-physical address 0 at its start, mapped
 * once into this process the way QEMU maps guest RAM. The back-end is told about it in regions
 * whose {@code userspace_addr} is where our mapping has them (QEMU's host virtual address), so
 * ring addresses sent in that space resolve on both sides to the same bytes.
 */
public final class FrontendMemory implements AutoCloseable {
    private final FileDescriptor fd;
    private final GuestMemory memory;
    private final long size;
    /** Where our mapping starts: the user address of guest-physical 0. */
    private final long mappingAddress;

    private FrontendMemory(FileDescriptor fd, GuestMemory memory, long size, long mappingAddress) {
        this.fd = fd;
        this.memory = memory;
        this.size = size;
        this.mappingAddress = mappingAddress;
    }

    /**
     * A memfd named {@code name} of {@code size} bytes, mapped whole; sealable, as QEMU makes
     * guest RAM, so the back-end can seal it against shrinking.
     */
    public static FrontendMemory create(String name, long size) throws NativeIoException, InvalidMemoryTableException {
        return of(Memfd.createSealable(name, size), size);
    }

    /**
     * As {@link #create}, but from a memfd that cannot be sealed: a front-end that can still
     * shrink its memory under the back-end, for the tests of what a back-end does then.
     */
    public static FrontendMemory createUnsealable(String name, long size)
            throws NativeIoException, InvalidMemoryTableException {
        return of(Memfd.create(name, size), size);
    }

    private static FrontendMemory of(FileDescriptor fd, long size) throws NativeIoException, InvalidMemoryTableException {
        try {
            // Our own view is addressed by guest-physical address only; its virtual address for
            // the back-end is the mapping's, known once it is made.
            GuestMemory memory = GuestMemory.map(List.of(new GuestRegion(0, size, 0, 0, fd)));
            return new FrontendMemory(fd, memory, size, segment(memory, 0, size).address());
        } catch (NativeIoException | InvalidMemoryTableException | RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    /**
     * The memory as {@code count} equal adjacent regions, region {@code i} at guest-physical
     * {@code i * size / count} and the same offset in the memfd: differently shaped tables for
     * the same bytes.
     */
    public List<FrontendRegion> regions(int count) {
        if (count < 1 || size % count != 0) {
            throw new IllegalArgumentException(size + " bytes of guest memory do not split into " + count + " equal regions");
        }
        long regionSize = size / count;
        List<FrontendRegion> regions = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            long gpa = i * regionSize;
            regions.add(new FrontendRegion(new MemoryRegionMessage(gpa, regionSize, userAddress(gpa), gpa), fd));
        }
        return regions;
    }

    /** Where guest-physical {@code gpa} is in our mapping: the address SET_VRING_ADDR speaks. */
    public long userAddress(long gpa) {
        if (gpa < 0 || gpa >= size) {
            throw new IllegalArgumentException("gpa 0x" + Long.toHexString(gpa) + " is outside the 0x"
                    + Long.toHexString(size) + " bytes of guest memory");
        }
        return mappingAddress + gpa;
    }

    /** Guest memory at {@code gpa}, as the guest's driver reads and writes it. */
    public MemorySegment bytes(long gpa, long length) {
        return segment(memory, gpa, length);
    }

    private static MemorySegment segment(GuestMemory memory, long gpa, long length) {
        return switch (memory.translate(gpa, length)) {
            case Translation.Mapped(MemorySegment segment) -> segment;
            case Translation.Fault fault -> throw new IllegalArgumentException(fault.message());
        };
    }

    /** Our mapping, translating guest-physical addresses: the {@code RingMemory} of a driver queue. */
    public GuestMemory guestMemory() {
        return memory;
    }

    public FileDescriptor fd() {
        return fd;
    }

    @Override
    public void close() {
        memory.close();
        fd.close();
    }
}
