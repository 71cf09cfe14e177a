package dev.lowmem.devices.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PcapWriterTest {
    @TempDir
    Path directory;

    /** A broadcast ARP-sized frame of {@code length} bytes: ff:ff:ff:ff:ff:ff, 52:54:00:12:34:56, IPv4. */
    private static MemorySegment frame(Arena arena, int length) {
        MemorySegment frame = arena.allocate(length);
        for (int i = 0; i < 6; i++) {
            frame.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) 0xFF);
        }
        byte[] source = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
        MemorySegment.copy(MemorySegment.ofArray(source), 0, frame, 6, 6);
        frame.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 12, (byte) 0x08);
        return frame;
    }

    @Test
    void theFileHeaderAndEachRecordAreLibpcapsLayout() throws Exception {
        Path file = directory.resolve("layout.pcap");
        try (Arena arena = Arena.ofConfined(); PcapWriter pcap = PcapWriter.create(file, 1 << 20)) {
            pcap.write(1_700_000_000_123_456_789L, frame(arena, 60), 0, 60);
        }
        assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(file),
                "the guests' traffic, for this user alone");
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.nativeOrder());
        assertEquals(24 + 16 + 60, bytes.remaining());
        assertEquals(0xa1b2c3d4, bytes.getInt(0), "magic, microseconds, in the writer's order");
        assertEquals(2, bytes.getShort(4));
        assertEquals(4, bytes.getShort(6));
        assertEquals(0, bytes.getInt(8), "thiszone");
        assertEquals(0, bytes.getInt(12), "sigfigs");
        assertEquals(65_535, bytes.getInt(16), "snaplen");
        assertEquals(1, bytes.getInt(20), "LINKTYPE_ETHERNET");
        assertEquals(1_700_000_000, bytes.getInt(24), "ts_sec");
        assertEquals(123_456, bytes.getInt(28), "ts_usec");
        assertEquals(60, bytes.getInt(32), "incl_len");
        assertEquals(60, bytes.getInt(36), "orig_len");
        byte[] destination = new byte[6];
        bytes.get(40, destination);
        assertArrayEquals(new byte[] {-1, -1, -1, -1, -1, -1}, destination);
    }

    @Test
    void stopsAtItsCapAndWritesNothingMore() throws Exception {
        Path file = directory.resolve("capped.pcap");
        try (Arena arena = Arena.ofConfined(); PcapWriter pcap = PcapWriter.create(file, 24 + 2 * (16 + 100) + 50)) {
            MemorySegment frame = frame(arena, 100);
            for (int i = 0; i < 5; i++) {
                pcap.write(System.currentTimeMillis() * 1_000_000, frame, 0, 100);
            }
            assertTrue(pcap.stopped());
            assertEquals(2, pcap.records());
        }
        assertEquals(24 + 2 * (16 + 100), Files.size(file));
    }

    /** What Debian's tcpdump prints reading {@code file}: a line a frame, with its addresses and length. */
    static String tcpdump(Path file) throws Exception {
        Path tcpdump = Path.of("/usr/bin/tcpdump");
        assertTrue(Files.isExecutable(tcpdump), "needs tcpdump: apt-get install -y tcpdump");
        Process process = new ProcessBuilder(tcpdump.toString(), "-r", file.toString(), "-n", "-e", "-q")
                .redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue(), output);
        return output;
    }

    @Test
    void tcpdumpReadsItBackWithEachFramesLength() throws Exception {
        Path file = directory.resolve("frames.pcap");
        List<Integer> lengths = List.of(60, 1514, 64, 9014);
        try (Arena arena = Arena.ofConfined(); PcapWriter pcap = PcapWriter.create(file, 1 << 20)) {
            for (int length : lengths) {
                pcap.write(System.currentTimeMillis() * 1_000_000, frame(arena, length), 0, length);
            }
            assertFalse(pcap.stopped());
        }
        String output = tcpdump(file);
        List<String> records = output.lines().filter(line -> line.contains("52:54:00:12:34:56 > ff:ff:ff:ff:ff:ff"))
                .toList();
        assertEquals(lengths.size(), records.size(), output);
        for (int i = 0; i < lengths.size(); i++) {
            assertTrue(records.get(i).contains("length " + lengths.get(i) + ":"), records.get(i));
        }
    }
}
