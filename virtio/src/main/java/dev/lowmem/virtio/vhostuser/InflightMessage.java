package dev.lowmem.virtio.vhostuser;

import java.lang.foreign.MemorySegment;

/**
 * An inflight description (docs/interop/vhost-user.rst, "Inflight description"), the payload of
 * GET_INFLIGHT_FD and SET_INFLIGHT_FD:
 * {@code struct { u64 mmap_size; u64 mmap_offset; u16 num_queues; u16 queue_size; }}, 24 bytes
 * with the padding C gives it (QEMU's VhostUserInflight). In a GET_INFLIGHT_FD request only the
 * two counts mean anything.
 */
public record InflightMessage(long mmapSize, long mmapOffset, int numQueues, int queueSize) {
    public static final int SIZE = 24;
    private static final int MMAP_SIZE = 0;
    private static final int MMAP_OFFSET = 8;
    private static final int NUM_QUEUES = 16;
    private static final int QUEUE_SIZE = 18;

    public static InflightMessage read(MemorySegment body) {
        return new InflightMessage(Wire.u64(body, MMAP_SIZE), Wire.u64(body, MMAP_OFFSET),
                Wire.u16(body, NUM_QUEUES), Wire.u16(body, QUEUE_SIZE));
    }

    public MemorySegment encode() {
        MemorySegment body = Wire.payload(SIZE);
        Wire.putU64(body, MMAP_SIZE, mmapSize);
        Wire.putU64(body, MMAP_OFFSET, mmapOffset);
        Wire.putU16(body, NUM_QUEUES, numQueues);
        Wire.putU16(body, QUEUE_SIZE, queueSize);
        return body;
    }
}
