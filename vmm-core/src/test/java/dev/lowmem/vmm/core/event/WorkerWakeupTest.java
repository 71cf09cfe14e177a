package dev.lowmem.vmm.core.event;

import dev.lowmem.vmm.core.nativeio.LibC;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real worker thread, parked by its idle strategy in epoll_wait (the kernel says so), wakes
 * when its kick eventfd is written.
 */
class WorkerWakeupTest {
    /** x86_64 syscall numbers glibc's epoll_wait may use: epoll_wait, epoll_pwait, epoll_pwait2. */
    private static final Set<String> EPOLL_WAIT_SYSCALLS = Set.of("232", "281", "441");
    private static final long TIMEOUT_NANOS = Duration.ofSeconds(10).toNanos();

    private final AtomicInteger workerTid = new AtomicInteger();
    private final AtomicLong kicksSeen = new AtomicLong();
    private volatile boolean running = true;

    @Test
    void aWorkerBlockedInItsIdleStrategyWakesWhenItsEventfdIsWritten() throws Exception {
        try (Epoll epoll = Epoll.create(); EventFd kick = EventFd.create(); Arena arena = Arena.ofShared()) {
            epoll.add(kick.fd(), LibC.EPOLLIN, 0);
            EpollEvents ready = new EpollEvents(arena, 4);
            IdleStrategy idle = new PollThenBlockIdleStrategy(PollWindow.fixed(Duration.ofMillis(1)), () -> epoll.wait(ready, -1));

            Thread worker = Thread.ofPlatform().name("worker").start(() -> {
                workerTid.set(LibC.gettid());
                try {
                    while (running) {
                        long kicks = kick.read();
                        kicksSeen.addAndGet(kicks);
                        idle.idle((int) kicks);
                    }
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            });

            awaitTrue(this::workerSleepsInEpollWait, "the worker parks in epoll_wait");
            assertEquals(0, kicksSeen.get());

            kick.signal();
            awaitTrue(() -> kicksSeen.get() == 1, "the worker woke and saw the kick");

            awaitTrue(this::workerSleepsInEpollWait, "after its poll window the worker parks again");
            running = false;
            kick.signal();
            worker.join(Duration.ofSeconds(10));
            assertFalse(worker.isAlive());
        }
    }

    private boolean workerSleepsInEpollWait() {
        int tid = workerTid.get();
        if (tid == 0) {
            return false;
        }
        try {
            Path task = Path.of("/proc/self/task/" + tid);
            String stat = Files.readString(task.resolve("stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            String syscall = Files.readString(task.resolve("syscall")).split(" ")[0].strip();
            return state == 'S' && EPOLL_WAIT_SYSCALLS.contains(syscall);
        } catch (IOException e) {
            return false;
        }
    }

    private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT_NANOS;
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            Thread.sleep(1);
        }
    }
}
