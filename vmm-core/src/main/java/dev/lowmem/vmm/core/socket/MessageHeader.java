package dev.lowmem.vmm.core.socket;

import dev.lowmem.vmm.core.nativeio.LibC;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A {@code struct msghdr} with one iovec and an SCM_RIGHTS control buffer, laid out in one native
 * allocation for a single {@code sendmsg} or {@code recvmsg}.
 *
 * <pre>
 * struct msghdr {                offset      struct cmsghdr {         offset
 *     void  *msg_name;           0               size_t cmsg_len;     0
 *     int    msg_namelen;        8               int    cmsg_level;   8
 *     struct iovec *msg_iov;     16              int    cmsg_type;    12
 *     size_t msg_iovlen;         24              int    fds[];        16
 *     void  *msg_control;        32          };
 *     size_t msg_controllen;     40
 *     int    msg_flags;          48
 * };                             size 56
 * </pre>
 */
final class MessageHeader {
    private static final long IOV_OFFSET = 16;
    private static final long IOVLEN_OFFSET = 24;
    private static final long CONTROL_OFFSET = 32;
    private static final long CONTROLLEN_OFFSET = 40;
    private static final long FLAGS_OFFSET = 48;
    private static final long MSGHDR_SIZE = 56;

    static final long CMSG_LEN_OFFSET = 0;
    static final long CMSG_LEVEL_OFFSET = 8;
    static final long CMSG_TYPE_OFFSET = 12;
    static final long CMSG_DATA_OFFSET = 16;

    private static final long IOVEC_SIZE = 16;

    private final MemorySegment msghdr;
    private final MemorySegment iovec;
    private final MemorySegment control;

    MessageHeader(Arena arena, int fdCapacity) {
        long controlSize = fdCapacity == 0 ? 0 : controlSpace(fdCapacity);
        MemorySegment all = arena.allocate(MSGHDR_SIZE + IOVEC_SIZE + controlSize, Long.BYTES);
        msghdr = all.asSlice(0, MSGHDR_SIZE);
        iovec = all.asSlice(MSGHDR_SIZE, IOVEC_SIZE);
        control = all.asSlice(MSGHDR_SIZE + IOVEC_SIZE, controlSize);
        msghdr.set(ValueLayout.JAVA_LONG, IOV_OFFSET, iovec.address());
        msghdr.set(ValueLayout.JAVA_LONG, IOVLEN_OFFSET, 1);
        msghdr.set(ValueLayout.JAVA_LONG, CONTROL_OFFSET, controlSize == 0 ? 0 : control.address());
        msghdr.set(ValueLayout.JAVA_LONG, CONTROLLEN_OFFSET, controlSize);
    }

    /** CMSG_SPACE for {@code fdCount} descriptors: header plus data rounded up to 8 bytes. */
    static long controlSpace(int fdCount) {
        return CMSG_DATA_OFFSET + ((fdCount * (long) Integer.BYTES + 7) & ~7L);
    }

    void setData(MemorySegment data) {
        iovec.set(ValueLayout.JAVA_LONG, 0, data.address());
        iovec.set(ValueLayout.JAVA_LONG, 8, data.byteSize());
    }

    /** Fills one SCM_RIGHTS control message with {@code fds}; an empty array sends none. */
    void setRights(int[] fds) {
        if (fds.length == 0) {
            msghdr.set(ValueLayout.JAVA_LONG, CONTROL_OFFSET, 0);
            msghdr.set(ValueLayout.JAVA_LONG, CONTROLLEN_OFFSET, 0);
            return;
        }
        control.set(ValueLayout.JAVA_LONG, CMSG_LEN_OFFSET, CMSG_DATA_OFFSET + (long) fds.length * Integer.BYTES);
        control.set(ValueLayout.JAVA_INT, CMSG_LEVEL_OFFSET, LibC.SOL_SOCKET);
        control.set(ValueLayout.JAVA_INT, CMSG_TYPE_OFFSET, LibC.SCM_RIGHTS);
        MemorySegment.copy(fds, 0, control, ValueLayout.JAVA_INT, CMSG_DATA_OFFSET, fds.length);
        msghdr.set(ValueLayout.JAVA_LONG, CONTROL_OFFSET, control.address());
        msghdr.set(ValueLayout.JAVA_LONG, CONTROLLEN_OFFSET, controlSpace(fds.length));
    }

    /** The control bytes the kernel filled in on receive. */
    MemorySegment receivedControl() {
        return control.asSlice(0, msghdr.get(ValueLayout.JAVA_LONG, CONTROLLEN_OFFSET));
    }

    int flags() {
        return msghdr.get(ValueLayout.JAVA_INT, FLAGS_OFFSET);
    }

    long address() {
        return msghdr.address();
    }
}
