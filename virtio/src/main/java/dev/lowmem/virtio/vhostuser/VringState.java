package dev.lowmem.virtio.vhostuser;

import java.lang.foreign.MemorySegment;

/**
 * A vring state description: {@code struct { u32 index; u32 num; }}, carrying a queue size
 * (SET_VRING_NUM), a ring base (SET/GET_VRING_BASE) or an enable flag (SET_VRING_ENABLE).
 */
public record VringState(int index, int num) {
    public static final int SIZE = 8;
    private static final int INDEX_OFFSET = 0;
    private static final int NUM_OFFSET = 4;

    public static VringState read(MemorySegment body) {
        return new VringState(Wire.u32(body, INDEX_OFFSET), Wire.u32(body, NUM_OFFSET));
    }

    public MemorySegment encode() {
        MemorySegment body = Wire.payload(SIZE);
        Wire.putU32(body, INDEX_OFFSET, index);
        Wire.putU32(body, NUM_OFFSET, num);
        return body;
    }
}
