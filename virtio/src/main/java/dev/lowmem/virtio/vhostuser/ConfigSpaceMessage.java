package dev.lowmem.virtio.vhostuser;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The payload of GET_CONFIG and SET_CONFIG: {@code struct { u32 offset; u32 size; u32 flags;
 * u8 payload[size]; }}. Flags: 0 for a driver's write, 1 for live migration (which may also write
 * read-only fields).
 */
public record ConfigSpaceMessage(int offset, int flags, byte[] data) {
    /** VHOST_USER_MAX_CONFIG_SIZE. */
    public static final int MAX_SIZE = 256;
    public static final int HEADER_SIZE = 12;
    public static final int FLAG_MIGRATION = 1;

    private static final int OFFSET_OFFSET = 0;
    private static final int SIZE_OFFSET = 4;
    private static final int FLAGS_OFFSET = 8;

    static void checkSize(MemorySegment body) throws VhostUserException {
        if (body.byteSize() < HEADER_SIZE) {
            throw new VhostUserException("config payload of " + body.byteSize() + " bytes is shorter than its header");
        }
        int size = Wire.u32(body, SIZE_OFFSET);
        if (size < 0 || size > MAX_SIZE || body.byteSize() != HEADER_SIZE + size) {
            throw new VhostUserException("config payload of " + body.byteSize() + " bytes says it holds "
                    + Integer.toUnsignedString(size) + " bytes of config space (at most " + MAX_SIZE + ")");
        }
    }

    /**
     * Refuses a range that cannot lie inside any vhost-user device's configuration space (at
     * most {@link #MAX_SIZE} bytes), before a device sees it: the offset is a u32 from the wire,
     * and an offset near 2^31 plus the size overflows an int.
     */
    void checkRange() throws VhostUserException {
        long end = Integer.toUnsignedLong(offset) + data.length;
        if (end > MAX_SIZE) {
            throw new VhostUserException("config range " + Integer.toUnsignedString(offset) + "+" + data.length
                    + " is beyond the " + MAX_SIZE + " bytes a configuration space may have");
        }
    }

    public static ConfigSpaceMessage read(MemorySegment body) {
        int size = Wire.u32(body, SIZE_OFFSET);
        return new ConfigSpaceMessage(Wire.u32(body, OFFSET_OFFSET), Wire.u32(body, FLAGS_OFFSET),
                body.asSlice(HEADER_SIZE, size).toArray(ValueLayout.JAVA_BYTE));
    }

    public MemorySegment encode() {
        MemorySegment body = Wire.payload(HEADER_SIZE + data.length);
        Wire.putU32(body, OFFSET_OFFSET, offset);
        Wire.putU32(body, SIZE_OFFSET, data.length);
        Wire.putU32(body, FLAGS_OFFSET, flags);
        MemorySegment.copy(MemorySegment.ofArray(data), 0, body, HEADER_SIZE, data.length);
        return body;
    }

    /** The reply that says GET_CONFIG failed: the spec's zero-length payload. */
    static MemorySegment failure() {
        return Wire.payload(0);
    }
}
