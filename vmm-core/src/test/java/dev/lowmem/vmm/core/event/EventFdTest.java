package dev.lowmem.vmm.core.event;

import dev.lowmem.vmm.core.nativeio.Errno;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class EventFdTest {

    @Test
    void writesAddUpAndAReadTakesTheWholeCount() throws Exception {
        try (EventFd eventFd = EventFd.create()) {
            eventFd.write(3);
            eventFd.write(4);
            eventFd.signal();
            assertEquals(8, eventFd.read());
            assertEquals(0, eventFd.read(), "nothing pending reads as 0, not an exception");
        }
    }

    @Test
    void aSemaphoreHandsOutOneAtATime() throws Exception {
        try (EventFd semaphore = EventFd.createSemaphore()) {
            semaphore.write(3);
            assertEquals(1, semaphore.read());
            assertEquals(1, semaphore.read());
            assertEquals(1, semaphore.read());
            assertEquals(0, semaphore.read());
        }
    }

    @Test
    void aSaturatedCounterKeepsItsPendingWakeUp() throws Exception {
        try (EventFd eventFd = EventFd.create()) {
            long max = 0xffff_ffff_ffff_fffeL;
            eventFd.write(max);
            eventFd.signal(); // would overflow: dropped, the wake-up is already pending
            assertEquals(max, eventFd.read());
        }
    }

    @Test
    void theReservedValueIsRefusedByName() throws Exception {
        try (EventFd eventFd = EventFd.create()) {
            NativeIoException e = assertThrows(NativeIoException.class, () -> eventFd.write(-1L));
            assertEquals("eventfd_write", e.call());
            assertEquals(Errno.EINVAL, e.errno());
        }
    }

    @Test
    void signalsFromManyThreadsAreAllCounted() throws Exception {
        try (EventFd eventFd = EventFd.create()) {
            Thread[] writers = new Thread[4];
            for (int t = 0; t < writers.length; t++) {
                writers[t] = Thread.ofPlatform().start(() -> {
                    for (int i = 0; i < 10_000; i++) {
                        try {
                            eventFd.signal();
                        } catch (NativeIoException e) {
                            throw new AssertionError(e);
                        }
                    }
                });
            }
            for (Thread writer : writers) {
                writer.join();
            }
            assertEquals(40_000, eventFd.read());
        }
    }
}
