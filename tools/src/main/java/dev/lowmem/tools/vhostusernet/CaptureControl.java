package dev.lowmem.tools.vhostusernet;

import dev.lowmem.devices.net.PacketCapture;
import dev.lowmem.devices.net.PcapWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The one capture of every device's frames, started by {@code --pcap} or a {@code pcap start}
 * request, and stopped by {@code pcap stop} or at exit. At most one runs at a time.
 */
final class CaptureControl implements AutoCloseable {
    /** What a capture wrote, when it stopped. */
    record Written(Path file, long frames, long bytes, boolean capped) {
    }

    private final List<PacketCapture> captures;
    private Path file;
    private PcapWriter writer;

    CaptureControl(List<PacketCapture> captures) {
        this.captures = List.copyOf(captures);
    }

    /**
     * Creates (or truncates) {@code file} and captures every device's frames into it, up to {@code maxBytes}.
     *
     * @throws IllegalStateException when a capture runs already
     */
    synchronized void start(Path file, long maxBytes) throws IOException {
        if (writer != null) {
            throw new IllegalStateException("a capture into " + this.file + " runs already; stop it first");
        }
        writer = PcapWriter.create(file, maxBytes);
        this.file = file;
        captures.forEach(capture -> capture.start(writer));
    }

    /**
     * Stops the capture and closes its file: a worker still writing a frame into it finishes first,
     * and the next frame finds no capture.
     *
     * @throws IllegalStateException when none runs
     */
    synchronized Written stop() throws IOException {
        if (writer == null) {
            throw new IllegalStateException("no capture runs");
        }
        captures.forEach(capture -> capture.start(null));
        PcapWriter stopping = writer;
        writer = null;
        // Whether the cap stopped it, read before close() marks every writer stopped.
        boolean capped = stopping.stopped();
        stopping.close();
        return new Written(file, stopping.records(), stopping.bytesWritten(), capped);
    }

    /** Where the running capture writes; null when none runs. */
    synchronized Path file() {
        return writer == null ? null : file;
    }

    @Override
    public synchronized void close() throws IOException {
        if (writer != null) {
            stop();
        }
    }
}
