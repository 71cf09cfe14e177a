package dev.lowmem.devices.net;

import dev.lowmem.devices.port.Port;
import dev.lowmem.devices.port.PortQueue;
import dev.lowmem.devices.port.RxBuffers;
import dev.lowmem.devices.port.TxFrame;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A one-queue port whose host side the test scripts: the frames it offers the guest (header
 * first, as a TAP gives them), reads that fail, and a count of the frames the guest sent it.
 * For the drop reasons a loopback cannot cause; the rig's thread alone calls it.
 */
final class ScriptedPort implements Port, PortQueue {
    /** What the next receive gives: bytes, or null for a read that fails. */
    private final Deque<byte[]> script = new ArrayDeque<>();
    private int transmitted;

    /** The guest receives {@code frame}, which includes its virtio_net_hdr. */
    void offer(byte[] frame) {
        script.add(frame);
    }

    /** The next read fails, as a TAP's readv can. */
    void failNextRead() {
        script.add(new byte[0]);
    }

    int transmitted() {
        return transmitted;
    }

    @Override
    public String describe() {
        return "scripted";
    }

    @Override
    public long offloadFeatures() {
        return 0;
    }

    @Override
    public int maxQueuePairs() {
        return 1;
    }

    @Override
    public void negotiated(long features, int headerSize) {
    }

    @Override
    public PortQueue queue(int pair) {
        return this;
    }

    @Override
    public FileDescriptor fd() {
        return null;
    }

    @Override
    public boolean transmit(TxFrame frame) {
        transmitted++;
        return true;
    }

    @Override
    public long receive(RxBuffers buffers) throws IOException {
        byte[] next = script.poll();
        if (next == null) {
            return 0;
        }
        if (next.length == 0) {
            throw new IOException("scripted read failure");
        }
        return buffers.copyFrom(MemorySegment.ofArray(next), 0, next.length);
    }

    @Override
    public long nextFrameLength() {
        return script.isEmpty() ? 0 : UNKNOWN_LENGTH;
    }

    @Override
    public boolean waitsWithoutLoss() {
        return true;
    }

    @Override
    public void close() {
    }
}
