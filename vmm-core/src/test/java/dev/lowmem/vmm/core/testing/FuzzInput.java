package dev.lowmem.vmm.core.testing;

import java.util.Arrays;

/**
 * A fuzzer's bytes read front to back as little-endian fields: the input format every fuzz target
 * decodes (docs/FUZZING.md), so that a seed can be written by hand field by field. Past the end
 * every field reads as zero, so any input decodes to something.
 */
public final class FuzzInput {
    private final byte[] bytes;
    private int position;

    public FuzzInput(byte[] bytes) {
        this.bytes = bytes;
    }

    public boolean hasMore() {
        return position < bytes.length;
    }

    public int u8() {
        return position < bytes.length ? bytes[position++] & 0xFF : 0;
    }

    public int u16() {
        return u8() | u8() << 8;
    }

    public int u32() {
        return u16() | u16() << 16;
    }

    public long u64() {
        return Integer.toUnsignedLong(u32()) | (long) u32() << 32;
    }

    /** The next {@code count} bytes, or fewer where the input ends first. */
    public byte[] bytes(int count) {
        int end = (int) Math.min((long) position + count, bytes.length);
        byte[] taken = Arrays.copyOfRange(bytes, position, end);
        position = end;
        return taken;
    }
}
