package dev.lowmem.devices.port;

import dev.lowmem.vmm.core.nativeio.Errno;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.NativeIoException;

import java.lang.foreign.MemorySegment;

/**
 * One queue of a {@link TapPort}: one fd of the TAP, through which every {@code writev} is one
 * frame to the host and every {@code readv} one frame from it, vnet header first.
 */
final class TapQueue implements PortQueue {
    private final String tapName;
    private final FileDescriptor fd;
    private final MemorySegment spill;

    /** @param spill one byte of native memory for {@link #receive}, this queue's alone */
    TapQueue(String tapName, FileDescriptor fd, MemorySegment spill) {
        this.tapName = tapName;
        this.fd = fd;
        this.spill = spill;
    }

    @Override
    public FileDescriptor fd() {
        return fd;
    }

    @Override
    public boolean carriesAnnouncements() {
        return true;
    }

    /** The kernel takes a frame whole or not at all, so 0 bytes written can only mean EAGAIN. */
    @Override
    public boolean transmit(TxFrame frame) throws NativeIoException {
        try {
            return frame.iovecs().writev(fd) != 0;
        } catch (NativeIoException e) {
            throw named("writev", e);
        }
    }

    /**
     * A frame longer than the buffers is cut, and the kernel returns only the bytes it stored
     * (tun_chr_read_iter takes the smaller of the frame's length and the buffers'), so a frame
     * that filled the buffers exactly and one that was cut would look alike. The spill byte after
     * the buffers tells them apart: a cut frame reaches it, and the result exceeds the capacity.
     */
    @Override
    public long receive(RxBuffers buffers) throws NativeIoException {
        try {
            return buffers.iovecs().readv(fd, spill);
        } catch (NativeIoException e) {
            throw named("readv", e);
        }
    }

    /** The failure again, naming the TAP, and saying why where the kernel's errno alone does not. */
    private NativeIoException named(String call, NativeIoException failure) {
        boolean write = call.equals("writev");
        String explanation = switch (failure.errno()) {
            case Errno.EIO -> write ? "TAP " + tapName + " is down (ip link set " + tapName + " up)" : null;
            case Errno.EINVAL -> write
                    ? "the kernel refused the frame: shorter than the vnet header, or a header whose offload fields do not fit it"
                    : "the buffers are shorter than the vnet header (the kernel drops the frame)";
            default -> null;
        };
        return new NativeIoException(call, "TAP " + tapName, failure.errno(), explanation);
    }
}
