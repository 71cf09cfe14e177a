package dev.lowmem.vmm.core.nativeio;

import com.sun.jna.Native;

/**
 * The one place where this project calls into libc (glibc 2.32 or later, x86_64 Linux).
 *
 * <p>Direct-mapped with JNA: every function is a {@code static native} method with a fixed
 * signature, so a call with primitive arguments costs one JNI transition and allocates nothing.
 * Pointers are passed as {@code long} addresses of native memory the caller owns (usually a
 * {@link java.lang.foreign.MemorySegment}'s {@code address()}). Return values are raw: callers go
 * through {@link Errors}, which turns {@code -1} and {@code errno} into a {@link NativeIoException}.
 *
 * <p>{@code fcntl} and {@code ioctl} are variadic in C; calling them through a fixed prototype
 * whose extra argument is an integer register is what the x86_64 System V ABI allows.
 */
public final class LibC {
    static {
        Native.register(LibC.class, "c");
    }

    private LibC() {
    }

    // <sys/socket.h>, <sys/un.h>
    public static final int AF_UNIX = 1;
    public static final int SOCK_STREAM = 1;
    public static final int SOCK_NONBLOCK = 0x800;
    public static final int SOCK_CLOEXEC = 0x80000;
    public static final int SOL_SOCKET = 1;
    public static final int SCM_RIGHTS = 1;
    public static final int MSG_CTRUNC = 0x8;
    public static final int MSG_NOSIGNAL = 0x4000;
    public static final int MSG_CMSG_CLOEXEC = 0x40000000;
    public static final int SHUT_RDWR = 2;
    public static final int SO_TYPE = 3;
    public static final int SO_ACCEPTCONN = 30;
    public static final int SO_DOMAIN = 39;

    // <sys/mman.h>
    public static final int PROT_READ = 0x1;
    public static final int PROT_WRITE = 0x2;
    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_NORESERVE = 0x4000;
    public static final int MAP_POPULATE = 0x8000;
    public static final long MAP_FAILED = -1L;
    public static final int MFD_CLOEXEC = 0x1;
    public static final int MFD_ALLOW_SEALING = 0x2;
    public static final int MFD_HUGETLB = 0x4;

    // <sys/eventfd.h>
    public static final int EFD_SEMAPHORE = 0x1;
    public static final int EFD_NONBLOCK = 0x800;
    public static final int EFD_CLOEXEC = 0x80000;

    // <sys/epoll.h>
    public static final int EPOLL_CLOEXEC = 0x80000;
    public static final int EPOLL_CTL_ADD = 1;
    public static final int EPOLL_CTL_DEL = 2;
    public static final int EPOLL_CTL_MOD = 3;
    public static final int EPOLLIN = 0x001;
    public static final int EPOLLOUT = 0x004;
    public static final int EPOLLERR = 0x008;
    public static final int EPOLLHUP = 0x010;
    public static final int EPOLLRDHUP = 0x2000;
    public static final int EPOLLET = 1 << 31;

    // <fcntl.h>
    public static final int F_SETFD = 2;
    public static final int FD_CLOEXEC = 1;
    public static final int F_GETFL = 3;
    public static final int F_SETFL = 4;
    public static final int O_RDWR = 0x2;
    public static final int O_NONBLOCK = 0x800;
    public static final int O_CLOEXEC = 0x80000;
    public static final int F_ADD_SEALS = 1033;
    public static final int F_GET_SEALS = 1034;
    public static final int F_SEAL_SHRINK = 0x0002;

    // <linux/if_tun.h>: ioctl requests on /dev/net/tun (_IOW/_IOR('T', nr, int)) and TUNSETIFF's flags
    public static final long TUNSETIFF = 0x400454caL;
    public static final long TUNSETOFFLOAD = 0x400454d0L;
    public static final long TUNGETVNETHDRSZ = 0x800454d7L;
    public static final long TUNSETVNETHDRSZ = 0x400454d8L;
    public static final long TUNSETQUEUE = 0x400454d9L;
    public static final int IFF_TAP = 0x0002;
    public static final int IFF_MULTI_QUEUE = 0x0100;
    public static final int IFF_ATTACH_QUEUE = 0x0200;
    public static final int IFF_DETACH_QUEUE = 0x0400;
    public static final int IFF_NO_PI = 0x1000;
    public static final int IFF_VNET_HDR = 0x4000;

    public static native int socket(int domain, int type, int protocol);

    public static native int socketpair(int domain, int type, int protocol, long fdPair);

    public static native int bind(int fd, long sockaddr, int sockaddrLength);

    public static native int listen(int fd, int backlog);

    public static native int accept4(int fd, long sockaddr, long sockaddrLength, int flags);

    public static native int connect(int fd, long sockaddr, int sockaddrLength);

    public static native int getsockopt(int fd, int level, int option, long value, long valueLength);

    public static native long sendmsg(int fd, long msghdr, int flags);

    public static native long recvmsg(int fd, long msghdr, int flags);

    public static native int shutdown(int fd, int how);

    public static native int close(int fd);

    /** open(2) without O_CREAT, so without the variadic mode argument. */
    public static native int open(String path, int flags);

    public static native int memfd_create(String name, int flags);

    public static native int ftruncate(int fd, long length);

    public static native int fstat(int fd, long statBuffer);

    public static native long mmap(long address, long length, int protection, int flags, int fd, long offset);

    public static native int munmap(long address, long length);

    public static native int eventfd(int initialValue, int flags);

    public static native int eventfd_read(int fd, long valueAddress);

    public static native int eventfd_write(int fd, long value);

    public static native long read(int fd, long buffer, long count);

    public static native long write(int fd, long buffer, long count);

    public static native long readv(int fd, long iovecs, int iovecCount);

    public static native long writev(int fd, long iovecs, int iovecCount);

    public static native int ioctl(int fd, long request, long argument);

    public static native int fcntl(int fd, int command, long argument);

    public static native int epoll_create1(int flags);

    public static native int epoll_ctl(int epollFd, int operation, int fd, long event);

    public static native int epoll_wait(int epollFd, long events, int maxEvents, int timeoutMillis);

    public static native int gettid();

    /** The errno's symbolic name ("ENOENT"), or null for a number glibc does not know. */
    public static native String strerrorname_np(int errno);

    /** The errno's description ("No such file or directory"), or null for an unknown number. */
    public static native String strerrordesc_np(int errno);
}
