package dev.lowmem.vmm.core.nativeio;

import dev.lowmem.vmm.core.event.EventFd;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ErrorsTest {

    @Test
    void aFailedCallNamesTheCallAndTheErrno() {
        NativeIoException e = assertThrows(NativeIoException.class, () -> Errors.check("close", LibC.close(-1)));
        assertEquals("close: EBADF (Bad file descriptor)", e.getMessage());
        assertEquals("close", e.call());
        assertEquals(Errno.EBADF, e.errno());
        assertEquals("EBADF", e.errnoName());
    }

    @Test
    void theSubjectGoesBetweenCallAndErrno() {
        assertEquals("bind /run/x.sock: EADDRINUSE (Address already in use)",
                new NativeIoException("bind", "/run/x.sock", Errno.EADDRINUSE).getMessage());
    }

    @Test
    void anExplanationFollowsTheErrno() {
        assertEquals("open /dev/net/tun: ENOENT (No such file or directory): load the tun module",
                new NativeIoException("open", "/dev/net/tun", Errno.ENOENT, "load the tun module").getMessage());
    }

    @Test
    void errnoNamesComeFromGlibcAndUnknownNumbersStayNumbers() {
        assertEquals("ENOENT", Errno.name(Errno.ENOENT));
        assertEquals("EACCES", Errno.name(Errno.EACCES));
        assertEquals("ECONNREFUSED", Errno.name(Errno.ECONNREFUSED));
        assertEquals("errno 4242", Errno.name(4242));
        assertEquals("unknown error", Errno.description(4242));
    }

    @Test
    void wouldBlockIsZeroForNonBlockingCallsButOtherErrorsThrow() throws Exception {
        try (EventFd empty = EventFd.create();
             Arena arena = Arena.ofConfined()) {
            long buffer = arena.allocate(8).address();
            assertEquals(0, Errors.checkOrAgain("read", LibC.read(empty.fd().intValue(), buffer, 8)));
            NativeIoException e = assertThrows(NativeIoException.class,
                    () -> Errors.checkOrAgain("read", LibC.read(-1, buffer, 8)));
            assertEquals(Errno.EBADF, e.errno());
        }
    }
}
