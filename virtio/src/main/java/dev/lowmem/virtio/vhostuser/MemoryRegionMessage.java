package dev.lowmem.virtio.vhostuser;

import java.lang.foreign.MemorySegment;

/**
 * One memory region as the wire carries it:
 * <pre>
 * struct {
 *     u64 guest_phys_addr;
 *     u64 memory_size;
 *     u64 userspace_addr;   // where the front-end has it mapped
 *     u64 mmap_offset;      // where it starts in the fd that comes with it
 * }
 * </pre>
 * ADD_MEM_REG and REM_MEM_REG carry one after 8 bytes of padding ({@link #SIZE} is that whole
 * payload); SET_MEM_TABLE carries up to eight in a {@link MemoryTableMessage}.
 */
public record MemoryRegionMessage(long guestPhysAddr, long size, long userAddr, long mmapOffset) {
    /** The single-region payload: padding, then the region. */
    public static final int SIZE = 8 + MemoryRegionMessage.REGION_SIZE;
    static final int REGION_SIZE = 32;

    static MemoryRegionMessage readRegion(MemorySegment body, long offset) {
        return new MemoryRegionMessage(Wire.u64(body, offset), Wire.u64(body, offset + 8),
                Wire.u64(body, offset + 16), Wire.u64(body, offset + 24));
    }

    void writeRegion(MemorySegment body, long offset) {
        Wire.putU64(body, offset, guestPhysAddr);
        Wire.putU64(body, offset + 8, size);
        Wire.putU64(body, offset + 16, userAddr);
        Wire.putU64(body, offset + 24, mmapOffset);
    }

    /** Reads the single-region payload of ADD_MEM_REG / REM_MEM_REG. */
    public static MemoryRegionMessage read(MemorySegment body) {
        return readRegion(body, 8);
    }

    public MemorySegment encode() {
        MemorySegment body = Wire.payload(SIZE);
        writeRegion(body, 8);
        return body;
    }

    /** Whether {@code other} names the same region, as REM_MEM_REG identifies one: the mmap offset is ignored. */
    public boolean sameRegion(MemoryRegionMessage other) {
        return guestPhysAddr == other.guestPhysAddr && size == other.size && userAddr == other.userAddr;
    }

    @Override
    public String toString() {
        return "region gpa 0x" + Long.toHexString(guestPhysAddr) + " size 0x" + Long.toHexString(size)
                + " uva 0x" + Long.toHexString(userAddr) + " offset 0x" + Long.toHexString(mmapOffset);
    }
}
