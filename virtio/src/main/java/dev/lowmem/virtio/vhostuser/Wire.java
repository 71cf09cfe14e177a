package dev.lowmem.virtio.vhostuser;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Native-order field access for payloads, which sit at any alignment in a message buffer. */
final class Wire {
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    private Wire() {
    }

    static int u16(MemorySegment body, long offset) {
        return Short.toUnsignedInt(body.get(U16, offset));
    }

    static void putU16(MemorySegment body, long offset, int value) {
        body.set(U16, offset, (short) value);
    }

    static int u32(MemorySegment body, long offset) {
        return body.get(U32, offset);
    }

    static long u64(MemorySegment body, long offset) {
        return body.get(U64, offset);
    }

    static void putU32(MemorySegment body, long offset, int value) {
        body.set(U32, offset, value);
    }

    static void putU64(MemorySegment body, long offset, long value) {
        body.set(U64, offset, value);
    }

    /** A zeroed heap payload of {@code size} bytes. */
    static MemorySegment payload(int size) {
        return MemorySegment.ofArray(new byte[size]);
    }

    static MemorySegment u64Payload(long value) {
        MemorySegment body = payload(Long.BYTES);
        putU64(body, 0, value);
        return body;
    }
}
