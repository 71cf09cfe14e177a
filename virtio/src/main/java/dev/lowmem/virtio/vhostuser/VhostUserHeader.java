package dev.lowmem.virtio.vhostuser;

/**
 * The header in front of every vhost-user message, in the machine's byte order:
 * <pre>
 * struct {
 *     u32 request;   // VhostUserRequest code
 *     u32 flags;     // bits 0-1 version (1), bit 2 reply, bit 3 need_reply
 *     u32 size;      // payload bytes that follow
 * }
 * </pre>
 */
public final class VhostUserHeader {
    public static final int REQUEST_OFFSET = 0;
    public static final int FLAGS_OFFSET = 4;
    public static final int SIZE_OFFSET = 8;
    public static final int SIZE = 12;

    public static final int VERSION = 0x1;
    public static final int VERSION_MASK = 0x3;
    public static final int REPLY = 0x4;
    public static final int NEED_REPLY = 0x8;

    private VhostUserHeader() {
    }
}
