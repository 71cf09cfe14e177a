package dev.lowmem.vmm.core.nativeio;

import dev.lowmem.vmm.core.event.Epoll;
import dev.lowmem.vmm.core.event.EpollEvents;
import dev.lowmem.vmm.core.event.EventFd;
import dev.lowmem.vmm.core.socket.UnixSocket;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The calls a worker makes per burst (eventfd signal and read, epoll_wait, readv with and without
 * a spill, writev) take preallocated native memory and allocate nothing on the Java heap per call,
 * measured by the JVM's own per-thread allocation counter.
 */
class HotPathAllocationTest {
    private static final int WARM_UP = 20_000;
    private static final int MEASURED = 100_000;
    private static final int FRAME = 64;

    @Test
    void eventfdEpollReadvAndWritevAllocateNothing() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket tx = pair[0]; UnixSocket rx = pair[1]; EventFd kick = EventFd.create();
             Epoll epoll = Epoll.create(); Arena arena = Arena.ofConfined()) {
            tx.fd().setNonBlocking(true);
            rx.fd().setNonBlocking(true);
            epoll.add(kick.fd(), LibC.EPOLLIN, 1);
            EpollEvents ready = new EpollEvents(arena, 8);
            MemorySegment frame = arena.allocate(FRAME);
            MemorySegment received = arena.allocate(FRAME);
            MemorySegment spill = arena.allocate(1);
            IovecArray gather = new IovecArray(arena, 4);
            IovecArray scatter = new IovecArray(arena, 4);
            for (int i = 0; i < FRAME; i++) {
                frame.set(ValueLayout.JAVA_BYTE, i, (byte) i);
            }
            // As a worker does: descriptors translated to addresses, addresses into iovecs.
            long frameAddress = frame.address();
            long receivedAddress = received.address();
            HotPath burst = () -> {
                kick.signal();
                epoll.wait(ready, 0);
                kick.read();
                gather.clear();
                gather.add(frameAddress, 16);
                gather.add(frameAddress + 16, FRAME - 16);
                scatter.clear();
                scatter.add(receivedAddress, 40);
                scatter.add(receivedAddress + 40, FRAME - 40);
                return gather.writev(tx.fd()) + scatter.readv(rx.fd(), spill) + scatter.readv(rx.fd());
            };

            for (int i = 0; i < WARM_UP; i++) {
                assertEquals(2 * FRAME, burst.run(), "a frame written, read, then EAGAIN as 0");
            }
            com.sun.management.ThreadMXBean threads =
                    (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long before = threads.getCurrentThreadAllocatedBytes();
            long moved = 0;
            for (int i = 0; i < MEASURED; i++) {
                moved += burst.run();
            }
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;

            assertEquals(2L * FRAME * MEASURED, moved);
            assertArrayEquals(frame.toArray(ValueLayout.JAVA_BYTE), received.toArray(ValueLayout.JAVA_BYTE));
            // One object per burst would be at least 16 bytes x MEASURED. What may remain is a
            // one-off of the JIT's (a deoptimization materializing an object), seen at 240 bytes.
            assertTrue(allocated < MEASURED, allocated + " bytes allocated over " + MEASURED + " bursts");
        }
    }

    @FunctionalInterface
    private interface HotPath {
        long run() throws NativeIoException;
    }
}
