package dev.lowmem.devices.net;

import dev.lowmem.devices.port.TxFrame;
import dev.lowmem.vmm.core.memory.ScatterList;
import java.io.IOException;

/**
 * Where a device's frames are captured, both ways, every queue pair: into a {@link PcapWriter}
 * once {@link #start} gave one, nowhere before. Off, a frame costs one volatile read; on, one copy
 * into the writer's record, no allocation. A frame whose copy fails (its guest memory went) is
 * left out of the capture, and the datapath goes on as without it; a capture that fails to write
 * stops (the writer logs it once).
 */
public final class PacketCapture {
    private volatile PcapWriter writer;

    /** Captures into {@code writer} from now; {@code null} stops capturing. The caller closes writers. */
    public void start(PcapWriter writer) {
        this.writer = writer;
    }

    /** A frame the guest sent, as the port took it. Worker thread. */
    void transmitted(TxFrame frame) {
        PcapWriter pcap = writer;
        if (pcap == null || !pcap.begin((int) frame.packetLength())) {
            return;
        }
        int captured = (int) Math.min(frame.packetLength(), pcap.snapLength());
        try {
            frame.copyPacketTo(0, pcap.payload(), 0, captured);
        } catch (RuntimeException | Error e) {
            pcap.abort();
            return;
        }
        end(pcap, captured);
    }

    /** A frame written into the guest's buffers: {@code length} bytes of {@code buffers} from {@code position}. Worker thread. */
    void received(ScatterList buffers, long position, long length) {
        PcapWriter pcap = writer;
        if (pcap == null || !pcap.begin((int) length)) {
            return;
        }
        int captured = (int) Math.min(length, pcap.snapLength());
        try {
            buffers.copyTo(0, position, pcap.payload(), 0, captured);
        } catch (RuntimeException | Error e) {
            pcap.abort();
            return;
        }
        end(pcap, captured);
    }

    private static void end(PcapWriter pcap, int captured) {
        try {
            pcap.end(captured);
        } catch (IOException e) {
            // The writer has stopped and said why; frames go on without it.
        }
    }
}
