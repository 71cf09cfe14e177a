package dev.lowmem.vmm.core.nativeio;

import dev.lowmem.vmm.core.event.EventFd;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FileDescriptorTest {

    @Test
    void aSecondCloseLeavesTheFileThatReusedTheNumberAlone() throws Exception {
        EventFd first = EventFd.create();
        int number = first.fd().intValue();
        first.close();
        try (EventFd second = EventFd.create()) {
            assertEquals(number, second.fd().intValue(), "the kernel hands out the lowest free number");
            first.close();
            second.signal();
            assertEquals(1, second.read(), "the second eventfd must still be open");
        }
    }

    @Test
    void aClosedDescriptorRefusesToGiveOutItsNumber() throws Exception {
        EventFd eventFd = EventFd.create();
        eventFd.close();
        assertFalse(eventFd.fd().isOpen());
        assertThrows(IllegalStateException.class, () -> eventFd.fd().intValue());
    }

    @Test
    void racingClosesCloseOnce() throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(4);
        try {
            for (int round = 0; round < 200; round++) {
                FileDescriptor fd = EventFd.create().fd();
                CountDownLatch start = new CountDownLatch(1);
                List<Future<?>> closers = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    closers.add(threads.submit(() -> {
                        start.await();
                        fd.close();
                        return null;
                    }));
                }
                start.countDown();
                for (Future<?> closer : closers) {
                    closer.get(); // an EBADF from a second close would surface here
                }
                assertFalse(fd.isOpen());
            }
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void nonBlockingFlagIsSetAndCleared() throws Exception {
        try (EventFd eventFd = EventFd.create()) {
            FileDescriptor fd = eventFd.fd();
            fd.setNonBlocking(false);
            assertEquals(0, LibC.fcntl(fd.intValue(), LibC.F_GETFL, 0) & LibC.O_NONBLOCK);
            fd.setNonBlocking(true);
            assertTrue((LibC.fcntl(fd.intValue(), LibC.F_GETFL, 0) & LibC.O_NONBLOCK) != 0);
        }
    }

    @Test
    void adoptRefusesNegativeNumbers() {
        assertThrows(IllegalArgumentException.class, () -> FileDescriptor.adopt(-1));
    }
}
