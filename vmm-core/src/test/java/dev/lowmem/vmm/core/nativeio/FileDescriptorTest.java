package dev.lowmem.vmm.core.nativeio;

import dev.lowmem.vmm.core.event.EventFd;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FileDescriptorTest {

    @Test
    void aSecondCloseLeavesTheFileThatReusedTheNumberAlone() throws Exception {
        EventFd first = EventFd.create();
        int number = first.fd().intValue();
        first.close();
        List<EventFd> opened = new ArrayList<>();
        try {
            EventFd reuser = null;
            // The kernel hands out the lowest free number, unless another thread took it first.
            while (reuser == null && opened.size() < 64) {
                EventFd candidate = EventFd.create();
                opened.add(candidate);
                reuser = candidate.fd().intValue() == number ? candidate : null;
            }
            assertNotNull(reuser, "fd " + number + " was never handed out again");

            first.close();

            reuser.signal();
            assertEquals(1, reuser.read(), "the file that reused the number must still be open");
        } finally {
            opened.forEach(EventFd::close);
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
    void theActionBeforeCloseRunsOnceWithTheNumberStillOpen() throws Exception {
        EventFd eventFd = EventFd.create();
        int number = eventFd.fd().intValue();
        List<String> seen = new ArrayList<>();
        eventFd.fd().setBeforeClose(n -> seen.add(n + (LibC.fcntl(n, LibC.F_GETFL, 0) >= 0 ? " open" : " closed")));
        assertThrows(IllegalStateException.class, () -> eventFd.fd().setBeforeClose(n -> { }));

        eventFd.close();
        eventFd.close();

        assertEquals(List.of(number + " open"), seen);
    }

    @Test
    void aClearedActionDoesNotRun() throws Exception {
        List<Integer> seen = new ArrayList<>();
        try (EventFd eventFd = EventFd.create()) {
            IntConsumer action = seen::add;
            eventFd.fd().setBeforeClose(action);
            eventFd.fd().clearBeforeClose(action);
        }
        assertTrue(seen.isEmpty());
    }

    @Test
    void adoptRefusesNegativeNumbers() {
        assertThrows(IllegalArgumentException.class, () -> FileDescriptor.adopt(-1));
    }
}
