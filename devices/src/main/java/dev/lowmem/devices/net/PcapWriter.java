package dev.lowmem.devices.net;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A packet capture in the classic pcap format (LINKTYPE_ETHERNET, microsecond timestamps, this
 * machine's byte order, as libpcap writes it), which tcpdump -r and Wireshark read. Workers of
 * several queue pairs may write to one capture: each record is written whole under a lock. A
 * record is assembled in one buffer made when the capture opens, so writing allocates nothing.
 * When the next record would take the file past its cap, the capture stops: {@link #stopped()}
 * says so, and nothing more is written.
 *
 * <p>Use: {@link #begin(long, int)}; when it returns true, copy up to {@link #snapLength()} bytes
 * of the frame into {@link #payload()}; then {@link #end(int)} with the bytes copied.
 */
public final class PcapWriter implements AutoCloseable {
    /** The magic number of a microsecond-resolution capture, written in this machine's order. */
    static final int MAGIC = 0xa1b2c3d4;
    static final int LINKTYPE_ETHERNET = 1;
    static final int FILE_HEADER = 24;
    static final int RECORD_HEADER = 16;
    /** The most of a frame a record holds: a 64 KiB TSO segment whole. */
    public static final int SNAP_LENGTH = 65_535;

    private static final System.Logger LOG = System.getLogger(PcapWriter.class.getName());
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    private final Path path;
    private final FileChannel file;
    private final long maxBytes;
    /** Added to {@link System#nanoTime()}: the wall clock in nanoseconds, without an allocation a frame. */
    private final long epochOffsetNanos = System.currentTimeMillis() * 1_000_000L - System.nanoTime();
    private final ReentrantLock lock = new ReentrantLock();
    private final ByteBuffer record = ByteBuffer.allocateDirect(RECORD_HEADER + SNAP_LENGTH)
            .order(ByteOrder.nativeOrder());
    private final MemorySegment payload = MemorySegment.ofBuffer(record).asSlice(RECORD_HEADER, SNAP_LENGTH);
    private long written;
    private volatile boolean stopped;
    private long records;

    private PcapWriter(Path path, FileChannel file, long maxBytes) {
        this.path = path;
        this.file = file;
        this.maxBytes = maxBytes;
    }

    /**
     * Creates {@code path}, mode 0600, or truncates it, keeping its mode, and writes the file header.
     *
     * @param maxBytes the most the file may hold, header included; at least the header and one record header
     */
    public static PcapWriter create(Path path, long maxBytes) throws IOException {
        if (maxBytes < FILE_HEADER + RECORD_HEADER) {
            throw new IllegalArgumentException("a capture of at most " + maxBytes + " bytes holds no frame");
        }
        // The guests' traffic: a file this creates is its user's alone, as the vhost-user socket is.
        FileChannel file = FileChannel.open(path, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING), PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        PcapWriter writer = new PcapWriter(path, file, maxBytes);
        try {
            ByteBuffer header = ByteBuffer.allocate(FILE_HEADER).order(ByteOrder.nativeOrder());
            header.putInt(MAGIC).putShort((short) 2).putShort((short) 4).putInt(0).putInt(0).putInt(SNAP_LENGTH)
                    .putInt(LINKTYPE_ETHERNET).flip();
            writer.writeFully(header);
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
        writer.written = FILE_HEADER;
        return writer;
    }

    /**
     * Starts a record for a frame of {@code frameLength} bytes seen at {@code epochNanos}; on
     * true the caller holds the capture until {@link #end(int)}, on false (the capture stopped,
     * or this frame would pass the cap and stops it) it writes nothing.
     */
    public boolean begin(long epochNanos, int frameLength) {
        if (stopped) {
            return false;
        }
        lock.lock();
        int captured = Math.min(frameLength, SNAP_LENGTH);
        if (stopped || written + RECORD_HEADER + captured > maxBytes) {
            if (!stopped) {
                stopped = true;
                LOG.log(System.Logger.Level.WARNING, "capture " + path + " stopped at its cap of " + maxBytes
                        + " bytes, after " + records + " frames");
            }
            lock.unlock();
            return false;
        }
        long micros = epochNanos / 1000;
        record.clear();
        record.putInt(0, (int) (micros / 1_000_000)).putInt(4, (int) (micros % 1_000_000))
                .putInt(12, frameLength);
        return true;
    }

    /** As {@link #begin(long, int)}, the frame seen now. */
    public boolean begin(int frameLength) {
        return begin(epochOffsetNanos + System.nanoTime(), frameLength);
    }

    /** Releases the capture after {@link #begin} without writing the record: the frame could not be copied. */
    public void abort() {
        lock.unlock();
    }

    /** Where the caller copies the frame's first bytes (at most {@link #SNAP_LENGTH}) between begin and end. */
    public MemorySegment payload() {
        return payload;
    }

    /** Writes the record with the {@code captured} bytes copied into {@link #payload()}, and releases the capture. */
    public void end(int captured) throws IOException {
        try {
            record.putInt(8, captured);
            record.limit(RECORD_HEADER + captured).position(0);
            writeFully(record);
            written += RECORD_HEADER + captured;
            records++;
        } catch (IOException e) {
            stopped = true;
            LOG.log(System.Logger.Level.WARNING, "capture " + path + " stopped: " + e.getMessage());
            throw e;
        } finally {
            lock.unlock();
        }
    }

    /** One contiguous frame: {@code length} bytes of {@code source} from {@code offset}. */
    public void write(long epochNanos, MemorySegment source, long offset, int length) throws IOException {
        if (begin(epochNanos, length)) {
            int captured = Math.min(length, SNAP_LENGTH);
            MemorySegment.copy(source, ValueLayout.JAVA_BYTE, offset, payload, ValueLayout.JAVA_BYTE, 0, captured);
            end(captured);
        }
    }

    private void writeFully(ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            file.write(buffer);
        }
    }

    /** Whether the cap (or a write error) stopped the capture. */
    public boolean stopped() {
        return stopped;
    }

    /** The file's size so far. */
    public long bytesWritten() {
        lock.lock();
        try {
            return written;
        } finally {
            lock.unlock();
        }
    }

    public long records() {
        lock.lock();
        try {
            return records;
        } finally {
            lock.unlock();
        }
    }

    public int snapLength() {
        return SNAP_LENGTH;
    }

    @Override
    public void close() throws IOException {
        lock.lock();
        try {
            stopped = true;
            file.close();
        } finally {
            lock.unlock();
        }
    }
}
