package dev.lowmem.virtio.vhostuser;

import java.lang.foreign.MemorySegment;

/**
 * The u64 of SET_VRING_KICK/CALL/ERR: bits 0-7 the ring index, bit 8 set when no file descriptor
 * comes with the message (the ring is to be polled instead). Other bits are reserved; a value
 * using them is kept whole so the handler can refuse it.
 */
public record VringFile(long value) {
    private static final long INDEX_MASK = 0xFF;
    private static final long NO_FD = 0x100;

    public static VringFile read(MemorySegment body) {
        return new VringFile(Wire.u64(body, 0));
    }

    public static VringFile of(int index, boolean noFd) {
        return new VringFile((index & INDEX_MASK) | (noFd ? NO_FD : 0));
    }

    public int index() {
        return (int) (value & INDEX_MASK);
    }

    public boolean noFd() {
        return (value & NO_FD) != 0;
    }

    public boolean reservedBitsSet() {
        return (value & ~(INDEX_MASK | NO_FD)) != 0;
    }

    public MemorySegment encode() {
        return Wire.u64Payload(value);
    }
}
