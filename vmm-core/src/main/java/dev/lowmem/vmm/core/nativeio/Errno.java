package dev.lowmem.vmm.core.nativeio;

import com.sun.jna.Native;

/** The errno values this project acts on by number, and the names of all of them. */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int ENXIO = 6;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int EINVAL = 22;
    public static final int EPIPE = 32;
    public static final int ENAMETOOLONG = 36;
    public static final int ENOTSOCK = 88;
    public static final int EADDRINUSE = 98;
    public static final int ECONNRESET = 104;
    public static final int ECONNREFUSED = 111;

    private Errno() {
    }

    /**
     * The errno of the last native call on this thread. JNA saves it as the call returns, so
     * Java code run in between cannot clobber it.
     */
    public static int last() {
        return Native.getLastError();
    }

    /** "ENOENT" for 2; "errno 4242" for a number glibc does not know. */
    public static String name(int errno) {
        String name = LibC.strerrorname_np(errno);
        return name != null ? name : "errno " + errno;
    }

    /** "No such file or directory" for 2; "unknown error" for a number glibc does not know. */
    public static String description(int errno) {
        String description = LibC.strerrordesc_np(errno);
        return description != null ? description : "unknown error";
    }
}
