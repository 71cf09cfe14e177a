package dev.lowmem.vmm.core.nativeio;

/**
 * One errno policy for every libc call: a negative return means failure and becomes a
 * {@link NativeIoException} naming the call; calls that may find nothing to do on a non-blocking
 * fd report EAGAIN as 0 so the datapath never builds an exception for an empty queue.
 */
public final class Errors {
    private Errors() {
    }

    public static int check(String call, int result) throws NativeIoException {
        if (result < 0) {
            throw new NativeIoException(call, Errno.last());
        }
        return result;
    }

    public static long check(String call, long result) throws NativeIoException {
        if (result < 0) {
            throw new NativeIoException(call, Errno.last());
        }
        return result;
    }

    public static int check(String call, String subject, int result) throws NativeIoException {
        if (result < 0) {
            throw new NativeIoException(call, subject, Errno.last());
        }
        return result;
    }

    /** The byte count of a read or write on a non-blocking fd, or 0 when it would block. */
    public static long checkOrAgain(String call, long result) throws NativeIoException {
        if (result >= 0) {
            return result;
        }
        int errno = Errno.last();
        if (errno == Errno.EAGAIN) {
            return 0;
        }
        throw new NativeIoException(call, errno);
    }
}
