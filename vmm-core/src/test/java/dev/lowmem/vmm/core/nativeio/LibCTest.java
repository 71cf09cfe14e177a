package dev.lowmem.vmm.core.nativeio;

import dev.lowmem.vmm.core.memory.Memfd;
import dev.lowmem.vmm.core.socket.UnixSocket;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bindings not exercised elsewhere yet, called for real: a wrong prototype shows up here. */
class LibCTest {
    /** ioctl request: bytes waiting in a socket's receive queue (asm-generic/ioctls.h). */
    private static final long FIONREAD = 0x541B;

    @Test
    void writeThenIoctlFionreadCountsTheBytesWaiting() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket writer = pair[0]; UnixSocket reader = pair[1]; Arena arena = Arena.ofConfined()) {
            MemorySegment bytes = arena.allocate(100);
            assertEquals(100, Errors.check("write", LibC.write(writer.fd().intValue(), bytes.address(), 100)));

            MemorySegment waiting = arena.allocate(ValueLayout.JAVA_INT);
            Errors.check("ioctl(FIONREAD)", LibC.ioctl(reader.fd().intValue(), FIONREAD, waiting.address()));
            assertEquals(100, waiting.get(ValueLayout.JAVA_INT, 0));
        }
    }

    @Test
    void fstatReportsAMemfdsSizeAndPageBlockSize() throws Exception {
        try (FileDescriptor memfd = Memfd.create("stat", 3 * 4096 + 1)) {
            FileStatus status = FileStatus.of(memfd);
            assertEquals(3 * 4096 + 1, status.size());
            assertEquals(4096, status.blockSize());
            assertEquals(0x8000, status.mode() & 0xF000, "a memfd is a regular file");
        }
    }

    @Test
    void openReportsAMissingPathAndOpensAnExistingOneWithItsFlags() throws Exception {
        assertEquals(-1, LibC.open("/dev/no-such-device", LibC.O_RDWR));
        assertEquals(Errno.ENOENT, Errno.last());

        int fd = Errors.check("open", LibC.open("/dev/null", LibC.O_RDWR | LibC.O_NONBLOCK | LibC.O_CLOEXEC));
        try (FileDescriptor devNull = FileDescriptor.adopt(fd)) {
            String flags = Files.readAllLines(Path.of("/proc/self/fdinfo/" + devNull.intValue())).stream()
                    .filter(line -> line.startsWith("flags:")).findFirst().orElseThrow();
            int octal = Integer.parseInt(flags.substring("flags:".length()).trim(), 8);
            assertEquals(LibC.O_RDWR, octal & 0x3);
            assertEquals(LibC.O_NONBLOCK, octal & LibC.O_NONBLOCK);
            assertEquals(LibC.O_CLOEXEC, octal & LibC.O_CLOEXEC);
        }
    }

    @Test
    void gettidNamesThisThreadInProc() throws Exception {
        int tid = LibC.gettid();
        assertTrue(Files.isDirectory(Path.of("/proc/self/task/" + tid)));
    }
}
