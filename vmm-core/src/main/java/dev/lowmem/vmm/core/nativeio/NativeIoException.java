package dev.lowmem.vmm.core.nativeio;

import java.io.IOException;

/**
 * A libc call failed. The message names the call, what it was called on when that helps, and the
 * errno by name: {@code "connect /run/vnet0.sock: ECONNREFUSED (Connection refused)"}, followed,
 * where the caller knows what the errno means there, by that explanation.
 */
public class NativeIoException extends IOException {
    private final String call;
    private final int errno;

    public NativeIoException(String call, int errno) {
        this(call, null, errno);
    }

    /** @param subject what the call acted on (a path, a region), or null */
    public NativeIoException(String call, String subject, int errno) {
        this(call, subject, errno, null);
    }

    /**
     * @param subject     what the call acted on (a path, a region), or null
     * @param explanation what the errno means for this call and what to do about it, or null:
     *                    {@code "TAP vnet0 is in use by another process"}
     */
    public NativeIoException(String call, String subject, int errno, String explanation) {
        super(call + (subject == null ? "" : " " + subject) + ": "
                + Errno.name(errno) + " (" + Errno.description(errno) + ")"
                + (explanation == null ? "" : ": " + explanation));
        this.call = call;
        this.errno = errno;
    }

    /** The libc function that failed, e.g. "recvmsg". */
    public String call() {
        return call;
    }

    public int errno() {
        return errno;
    }

    public String errnoName() {
        return Errno.name(errno);
    }
}
