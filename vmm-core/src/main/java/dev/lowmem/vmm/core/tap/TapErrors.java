package dev.lowmem.vmm.core.tap;

import dev.lowmem.vmm.core.nativeio.Errno;
import dev.lowmem.vmm.core.nativeio.NativeIoException;

/** The failures of opening a TAP, each with what it means and what to do about it. */
final class TapErrors {
    private TapErrors() {
    }

    /** {@code open} of the clone device failed. */
    static NativeIoException openFailed(String cloneDevice, int errno) {
        String explanation = switch (errno) {
            case Errno.ENOENT -> cloneDevice + " is missing: load the tun module (modprobe tun)"
                    + " or, in a container, pass the device in (--device /dev/net/tun)";
            case Errno.ENODEV, Errno.ENXIO -> cloneDevice + " has no driver: load the tun module (modprobe tun)";
            case Errno.EACCES, Errno.EPERM -> "no permission to open " + cloneDevice
                    + ": a TAP needs CAP_NET_ADMIN, or a TAP owned by your user"
                    + " (ip tuntap add NAME mode tap user $USER vnet_hdr) and read-write access to " + cloneDevice;
            default -> null;
        };
        return new NativeIoException("open", cloneDevice, errno, explanation);
    }

    /** TUNSETIFF failed, attaching queue fd number {@code queues} asked for to {@code name}. */
    static NativeIoException attachFailed(String name, int queues, int errno) {
        boolean multiQueue = queues > 1;
        String explanation = switch (errno) {
            case Errno.EPERM, Errno.EACCES -> "TAP " + name + " needs CAP_NET_ADMIN, or to be a TAP owned by your user"
                    + " (ip tuntap add " + name + " mode tap user $USER vnet_hdr" + (multiQueue ? " multi_queue" : "") + ")";
            case Errno.EBUSY -> "TAP " + name + " is in use by another process"
                    + " (a TAP created without multi_queue takes one open at a time)";
            case Errno.EINVAL -> "interface " + name + " exists but is not a TAP, or is a TAP "
                    + (multiQueue ? "without" : "with") + " multi_queue while " + queues
                    + (multiQueue ? " queues were" : " queue was") + " asked for";
            default -> null;
        };
        return new NativeIoException("TUNSETIFF", name, errno, explanation);
    }
}
