package dev.lowmem.virtio.vhostuser;

import java.lang.foreign.MemorySegment;

/**
 * A vring address description, the payload of SET_VRING_ADDR. The ring addresses are in the
 * front-end's virtual address space (no IOMMU is offered); for a packed ring "used" is the device
 * event suppression area and "avail" the driver's.
 * <pre>
 * struct {
 *     u32 index;
 *     u32 flags;      // bit 0 VHOST_VRING_F_LOG: log writes to the used ring
 *     u64 desc;
 *     u64 used;
 *     u64 avail;
 *     u64 log;        // guest address for dirty logging
 * }
 * </pre>
 */
public record VringAddress(int index, int flags, long desc, long used, long avail, long log) {
    public static final int SIZE = 40;
    public static final int F_LOG = 0x1;

    private static final int INDEX_OFFSET = 0;
    private static final int FLAGS_OFFSET = 4;
    private static final int DESC_OFFSET = 8;
    private static final int USED_OFFSET = 16;
    private static final int AVAIL_OFFSET = 24;
    private static final int LOG_OFFSET = 32;

    public static VringAddress read(MemorySegment body) {
        return new VringAddress(Wire.u32(body, INDEX_OFFSET), Wire.u32(body, FLAGS_OFFSET),
                Wire.u64(body, DESC_OFFSET), Wire.u64(body, USED_OFFSET), Wire.u64(body, AVAIL_OFFSET),
                Wire.u64(body, LOG_OFFSET));
    }

    public MemorySegment encode() {
        MemorySegment body = Wire.payload(SIZE);
        Wire.putU32(body, INDEX_OFFSET, index);
        Wire.putU32(body, FLAGS_OFFSET, flags);
        Wire.putU64(body, DESC_OFFSET, desc);
        Wire.putU64(body, USED_OFFSET, used);
        Wire.putU64(body, AVAIL_OFFSET, avail);
        Wire.putU64(body, LOG_OFFSET, log);
        return body;
    }
}
