package dev.lowmem.vmm.core.event;

import dev.lowmem.vmm.core.nativeio.LibC;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

class EpollTest {

    @Test
    void aWaitWithoutTimeoutWakesOnAnEventfdWrite() throws Exception {
        try (Epoll epoll = Epoll.create(); EventFd kick = EventFd.create(); Arena arena = Arena.ofShared()) {
            epoll.add(kick.fd(), LibC.EPOLLIN, 42);
            EpollEvents ready = new EpollEvents(arena, 4);
            CompletableFuture<Integer> waiter = CompletableFuture.supplyAsync(() -> {
                try {
                    return epoll.wait(ready, -1);
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            kick.signal();

            assertEquals(1, waiter.get(10, TimeUnit.SECONDS));
            assertEquals(42, ready.token(0));
            assertEquals(LibC.EPOLLIN, ready.events(0) & LibC.EPOLLIN);
        }
    }

    @Test
    void aZeroTimeoutReturnsAtOnceWithNothingReady() throws Exception {
        try (Epoll epoll = Epoll.create(); EventFd idle = EventFd.create(); Arena arena = Arena.ofConfined()) {
            epoll.add(idle.fd(), LibC.EPOLLIN, 1);
            assertEquals(0, epoll.wait(new EpollEvents(arena, 4), 0));
        }
    }

    @Test
    void interestCanBeTurnedOffAndBackOn() throws Exception {
        try (Epoll epoll = Epoll.create(); EventFd port = EventFd.create(); Arena arena = Arena.ofConfined()) {
            EpollEvents ready = new EpollEvents(arena, 4);
            epoll.add(port.fd(), LibC.EPOLLIN, 7);
            port.signal();

            epoll.modify(port.fd(), 0, 7);
            assertEquals(0, epoll.wait(ready, 0), "a ready fd nobody is interested in stays quiet");

            epoll.modify(port.fd(), LibC.EPOLLIN, 7);
            assertEquals(1, epoll.wait(ready, 0));

            epoll.remove(port.fd());
            assertEquals(0, epoll.wait(ready, 0));
        }
    }

    @Test
    void severalReadyFdsComeBackWithTheirTokens() throws Exception {
        try (Epoll epoll = Epoll.create(); EventFd a = EventFd.create(); EventFd b = EventFd.create();
             Arena arena = Arena.ofConfined()) {
            epoll.add(a.fd(), LibC.EPOLLIN, 0x1_0000_0001L);
            epoll.add(b.fd(), LibC.EPOLLIN, -5);
            a.signal();
            b.signal();
            EpollEvents ready = new EpollEvents(arena, 4);
            assertEquals(2, epoll.wait(ready, 0));
            assertEquals(Set.of(0x1_0000_0001L, -5L), Set.of(ready.token(0), ready.token(1)));
        }
    }
}
