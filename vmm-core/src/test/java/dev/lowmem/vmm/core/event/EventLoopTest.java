package dev.lowmem.vmm.core.event;

import dev.lowmem.vmm.core.nativeio.LibC;
import dev.lowmem.vmm.core.socket.UnixSocket;
import dev.lowmem.vmm.core.testing.ProcSelf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
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
    void anFdClosedWhileRegisteredLeavesTheSetThoughACopyOfItLivesOn() throws Exception {
        BlockingQueue<String> calls = new LinkedBlockingQueue<>();
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket sender = pair[0]; UnixSocket receiver = pair[1]; Arena arena = Arena.ofConfined()) {
            EventFd original = EventFd.create();
            int number = original.fd().intValue();
            sender.send(arena.allocateFrom("x"), original.fd());
            // The received descriptor is a second fd for the same file, as QEMU holds one of ours.
            try (EventFd copy = EventFd.adopt(receiver.receive(arena.allocate(8), 1).fds().getFirst())) {
                loop.submit(() -> {
                    loop.register(original.fd(), LibC.EPOLLIN, events -> calls.add("original"));
                    return null;
                }).get(10, TimeUnit.SECONDS);
                assertEquals(1, ProcSelf.epollSetsWatching(number));

                original.close();
                assertEquals(0, ProcSelf.epollSetsWatching(number), "closing took the fd out of the set");

                copy.signal();
                try (EventFd next = EventFd.create()) {
                    loop.submit(() -> {
                        loop.register(next.fd(), LibC.EPOLLIN, events -> calls.add("next " + next.read()));
                        return null;
                    }).get(10, TimeUnit.SECONDS);
                    next.signal();
                    assertEquals("next 1", calls.poll(10, TimeUnit.SECONDS));
                    assertNull(calls.poll(100, TimeUnit.MILLISECONDS), "the closed fd's handler never ran");
                    unregister(next);
                }
            }
        }
    }

    @Test
    void anUnregisteredFdLeavesTheSetAndItsHandlerIsNotCalled() throws Exception {
        BlockingQueue<String> calls = new LinkedBlockingQueue<>();
        try (EventFd kick = EventFd.create()) {
            loop.submit(() -> {
                loop.register(kick.fd(), LibC.EPOLLIN, events -> calls.add("kick"));
                return null;
            }).get(10, TimeUnit.SECONDS);
            unregister(kick);
            assertEquals(0, ProcSelf.epollSetsWatching(kick.fd().intValue()));
            kick.signal();
            assertEquals(0, loop.submit(calls::size).get(10, TimeUnit.SECONDS));
        }
    }

    private void unregister(EventFd eventFd) throws Exception {
        loop.submit(() -> {
            loop.unregister(eventFd.fd());
            return null;
        }).get(10, TimeUnit.SECONDS);
    }
}
