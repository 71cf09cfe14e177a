package dev.lowmem.vmm.core.memory;

import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.testing.ProcSelf;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Retiring a table under a reader: the reader fails cleanly, the JVM lives, the mapping goes. */
class GuestMemoryRetirementTest {
    private static final long SIZE = 1 << 20;
    private static final String NAME = "retired-table";

    @Test
    void aTableRetiredWhileAnotherThreadReadsFailsThatThreadCleanly() throws Exception {
        for (int round = 0; round < 50; round++) {
            try (FileDescriptor memfd = Memfd.create(NAME, SIZE)) {
                GuestMemory memory = GuestMemory.map(List.of(new GuestRegion(0, SIZE, 0, 0, memfd)));
                MemorySegment bytes = ((Translation.Mapped) memory.translate(0, SIZE)).segment();
                AtomicReference<Throwable> failure = new AtomicReference<>();
                AtomicLong reads = new AtomicLong();
                CountDownLatch reading = new CountDownLatch(1);

                Thread reader = Thread.ofPlatform().start(() -> {
                    try {
                        long sum = 0;
                        for (long i = 0; ; i = (i + 8) % SIZE) {
                            sum += bytes.get(ValueLayout.JAVA_LONG, i);
                            if (reads.incrementAndGet() == 1000) {
                                reading.countDown();
                            }
                        }
                    } catch (Throwable t) {
                        failure.set(t);
                    }
                });
                assertTrue(reading.await(10, TimeUnit.SECONDS));
                assertEquals(1, ProcSelf.mappingsOf(NAME));

                memory.close();
                reader.join(TimeUnit.SECONDS.toMillis(10));

                assertTrue(!reader.isAlive(), "the reader stopped");
                assertInstanceOf(IllegalStateException.class, failure.get(), "a clean failure: " + failure.get());
                assertTrue(memory.isRetired());
                assertThrows(IllegalStateException.class, () -> bytes.get(ValueLayout.JAVA_LONG, 0));
                assertEquals(0, ProcSelf.mappingsOf(NAME), "the region is unmapped");
            }
        }
    }

    @Test
    void retiringTwiceIsHarmless() throws Exception {
        try (FileDescriptor memfd = Memfd.create(NAME, SIZE)) {
            GuestMemory memory = GuestMemory.map(List.of(new GuestRegion(0, SIZE, 0, 0, memfd)));
            memory.close();
            memory.close();
            assertTrue(memory.isRetired());
        }
    }
}
