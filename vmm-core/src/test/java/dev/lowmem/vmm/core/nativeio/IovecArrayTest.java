package dev.lowmem.vmm.core.nativeio;

import dev.lowmem.vmm.core.socket.UnixSocket;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class IovecArrayTest {

    @Test
    void aReadThatOverrunsTheArrayLandsInTheSpillAndCountsIt() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket writer = pair[0]; UnixSocket reader = pair[1]; Arena arena = Arena.ofConfined()) {
            reader.fd().setNonBlocking(true);
            MemorySegment sent = arena.allocate(10);
            for (int i = 0; i < 10; i++) {
                sent.set(ValueLayout.JAVA_BYTE, i, (byte) (i + 1));
            }
            LibC.write(writer.fd().intValue(), sent.address(), 10);
            MemorySegment buffer = arena.allocate(4);
            MemorySegment spill = arena.allocate(2);
            IovecArray iovecs = new IovecArray(arena, 1);
            iovecs.add(buffer);

            assertEquals(6, iovecs.readv(reader.fd(), spill), "more than the array's 4 bytes: it did not fit");
            assertEquals(4, buffer.get(ValueLayout.JAVA_BYTE, 3));
            assertEquals(6, spill.get(ValueLayout.JAVA_BYTE, 1));

            assertEquals(1, iovecs.count(), "the spill is not kept");
            assertEquals(4, iovecs.totalLength());
            assertFalse(iovecs.add(spill), "the spare entry is not capacity");
            assertEquals(4, iovecs.readv(reader.fd()), "a plain read fills the array alone");
            assertEquals(0, iovecs.readv(reader.fd(), spill), "then nothing is left: EAGAIN as 0");
        }
    }

    @Test
    void aReadThatFitsReportsItsOwnLength() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket writer = pair[0]; UnixSocket reader = pair[1]; Arena arena = Arena.ofConfined()) {
            MemorySegment bytes = arena.allocate(4);
            LibC.write(writer.fd().intValue(), bytes.address(), 4);
            IovecArray iovecs = new IovecArray(arena, 2);
            iovecs.add(arena.allocate(2));
            iovecs.add(arena.allocate(2));

            assertEquals(4, iovecs.readv(reader.fd(), arena.allocate(1)));
        }
    }

    @Test
    void aCapacityOutsideTheKernelsLimitIsRefused() {
        try (Arena arena = Arena.ofConfined()) {
            assertThrows(IllegalArgumentException.class, () -> new IovecArray(arena, 0));
            assertThrows(IllegalArgumentException.class, () -> new IovecArray(arena, IovecArray.IOV_MAX + 1));
            assertEquals(IovecArray.IOV_MAX, new IovecArray(arena, IovecArray.IOV_MAX).capacity());
        }
    }
}
