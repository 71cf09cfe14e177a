package dev.lowmem.vmm.core.event;

import dev.lowmem.vmm.core.nativeio.LibC;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EventLoopTest {
    private EventLoop loop;

    @BeforeEach
    void start() throws Exception {
        loop = EventLoop.start("test-loop");
    }

    @AfterEach
    void stop() throws Exception {
        loop.close();
    }

    @Test
    void tasksRunOnTheLoopThread() throws Exception {
        assertTrue(loop.submit(loop::inLoop).get(10, TimeUnit.SECONDS));
    }

    @Test
    void aRegisteredFdsHandlerRunsWhenItIsReady() throws Exception {
        BlockingQueue<Long> kicks = new LinkedBlockingQueue<>();
        try (EventFd kick = EventFd.create()) {
            loop.submit(() -> {
                loop.register(kick.fd(), LibC.EPOLLIN, events -> kicks.add(kick.read()));
                return null;
            }).get(10, TimeUnit.SECONDS);

            kick.write(2);
            assertEquals(2, kicks.poll(10, TimeUnit.SECONDS));
            kick.write(5);
            assertEquals(5, kicks.poll(10, TimeUnit.SECONDS));
            unregister(kick);
        }
    }

    @Test
    void aFailingHandlerIsRemovedAndTheOthersKeepBeingServed() throws Exception {
        BlockingQueue<String> calls = new LinkedBlockingQueue<>();
        try (EventFd bad = EventFd.create(); EventFd good = EventFd.create()) {
            loop.submit(() -> {
                loop.register(bad.fd(), LibC.EPOLLIN, events -> {
                    calls.add("bad");
                    throw new IllegalStateException("a malformed message");
                });
                loop.register(good.fd(), LibC.EPOLLIN, events -> calls.add("good " + good.read()));
                return null;
            }).get(10, TimeUnit.SECONDS);

            bad.signal();
            assertEquals("bad", calls.poll(10, TimeUnit.SECONDS));
            good.signal();
            assertEquals("good 1", calls.poll(10, TimeUnit.SECONDS));
            // bad stays readable (nobody read it); a removed fd must not be dispatched again.
            good.signal();
            assertEquals("good 1", calls.poll(10, TimeUnit.SECONDS));
            assertNull(calls.poll(100, TimeUnit.MILLISECONDS));
            unregister(good);
        }
    }

    @Test
    void registrationsChangeOnlyOnTheLoopThread() throws Exception {
        try (EventFd kick = EventFd.create()) {
            assertThrows(IllegalStateException.class, () -> loop.register(kick.fd(), LibC.EPOLLIN, events -> { }));
        }
    }

    @Test
    void aFailingTaskCompletesItsFutureExceptionallyAndTheLoopGoesOn() throws Exception {
        ExecutionException e = assertThrows(ExecutionException.class, () -> loop.submit(() -> {
            throw new IOException("bad region");
        }).get(10, TimeUnit.SECONDS));
        assertInstanceOf(IOException.class, e.getCause());
        assertEquals(3, loop.submit(() -> 3).get(10, TimeUnit.SECONDS));
    }

    @Test
    void aClosedLoopRefusesWorkAndClosingAgainIsHarmless() throws Exception {
        loop.close();
        assertThrows(RejectedExecutionException.class, () -> loop.execute(() -> { }));
        loop.close();
    }

    @Test
    void aTaskMayCloseItsOwnLoop() throws Exception {
        loop.submit(() -> {
            loop.close();
            return null;
        }).get(10, TimeUnit.SECONDS);
        loop.close(); // joins the thread, which has stopped
        assertThrows(RejectedExecutionException.class, () -> loop.execute(() -> { }));
    }

    @Test
    void tasksLeftBehindByAStoppingLoopFailTheirFuturesInsteadOfHanging() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        loop.execute(() -> {
            try {
                release.await();
                loop.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        CompletableFuture<Integer> orphan = loop.submit(() -> 1);
        release.countDown();

        ExecutionException e = assertThrows(ExecutionException.class, () -> orphan.get(10, TimeUnit.SECONDS));
        assertInstanceOf(RejectedExecutionException.class, e.getCause());
    }

    @Test
    void anFdClosedWithoutUnregisteringFreesItsNumberForANewRegistration() throws Exception {
        BlockingQueue<String> calls = new LinkedBlockingQueue<>();
        EventFd first = EventFd.create();
        int number = first.fd().intValue();
        loop.submit(() -> {
            loop.register(first.fd(), LibC.EPOLLIN, events -> calls.add("first"));
            return null;
        }).get(10, TimeUnit.SECONDS);
        first.close();

        try (EventFd second = EventFd.create()) {
            assertEquals(number, second.fd().intValue());
            loop.submit(() -> {
                loop.register(second.fd(), LibC.EPOLLIN, events -> calls.add("second " + second.read()));
                return null;
            }).get(10, TimeUnit.SECONDS);
            second.signal();
            assertEquals("second 1", calls.poll(10, TimeUnit.SECONDS));
            unregister(second);
        }
    }

    private void unregister(EventFd eventFd) throws Exception {
        loop.submit(() -> {
            loop.unregister(eventFd.fd());
            return null;
        }).get(10, TimeUnit.SECONDS);
    }
}
