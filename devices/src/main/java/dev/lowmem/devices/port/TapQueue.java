package dev.lowmem.devices.port;

import dev.lowmem.vmm.core.nativeio.Errno;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.NativeIoException;

import java.lang.foreign.MemorySegment;

/**
 * One queue of a {@link TapPort}: one fd of the TAP, through which every {@code readv} is one
 * frame from the host, vnet header first, and every {@code writev} one frame to it.
 *
 * <p>On a TAP of several queues a frame goes out through the queue its connection hashes to
 * ({@link FlowHash}), whichever pair's worker sends it. The kernel sends a connection's frames to
 * the queue its last frame came in on (tun's flow table, updated on every write), and a guest
 * sends one connection's ACKs from whichever vCPU it runs on: written through the sender's own
 * queue, the connection's data moved between the TAP's queues, and frames still waiting on the
 * old queue reached the guest after newer ones on the new (about 40,000 retransmits in 4 s of
 * iperf3 -P 4 host to guest on 2 pairs, docs/PERFORMANCE.md). The kernel takes writes on any of
 * the TAP's fds from any thread, a frame at a time.
 */
final class TapQueue implements PortQueue {
    private final String tapName;
    private final FileDescriptor fd;
    private final MemorySegment spill;
    /** Every queue's fd, this one's among them, by queue index; the frame's connection picks one. */
    private final FileDescriptor[] outputs;
    /** The first bytes of a frame to send, for its flow hash; null on a TAP of one queue. */
    private final MemorySegment head;

    /**
     * @param spill one byte of native memory for {@link #receive}, this queue's alone
     * @param outputs the fds of all the TAP's queues; with more than one, {@code head} is
     *        {@link FlowHash#HEAD} bytes of native memory, this queue's alone
     */
    TapQueue(String tapName, FileDescriptor fd, MemorySegment spill, FileDescriptor[] outputs, MemorySegment head) {
        this.tapName = tapName;
        this.fd = fd;
        this.spill = spill;
        this.outputs = outputs;
        this.head = head;
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
            return frame.iovecs().writev(output(frame)) != 0;
        } catch (NativeIoException e) {
            throw named("writev", e);
        }
    }

    private FileDescriptor output(TxFrame frame) {
        if (outputs.length == 1) {
            return fd;
        }
        int length = (int) Math.min(frame.packetLength(), FlowHash.HEAD);
        frame.copyPacketTo(0, head, 0, length);
        return outputs[Math.floorMod(FlowHash.of(head, length), outputs.length)];
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
