package dev.lowmem.vmm.core.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The dirty-page log on a real memfd, read back through a second mapping of the file as the
 * front-end reads it: page p is bit p % 8 of byte p / 8 from the log's offset.
 */
class DirtyLogTest {
    private static final long PAGE = DirtyLog.PAGE_SIZE;
    private static final long FILE_SIZE = 3 * PAGE;

    private final FileDescriptor memfd;
    /** The whole file as the front-end sees it. */
    private final GuestMemory file;

    DirtyLogTest() throws Exception {
        memfd = Memfd.create("dirty-log-test", FILE_SIZE);
        file = GuestMemory.map(List.of(new GuestRegion(0, FILE_SIZE, 0, 0, memfd)));
    }

    @AfterEach
    void close() {
        file.close();
        memfd.close();
    }

    /** The pages whose bits are set in the {@code size}-byte log at {@code offset} of the file, as the front-end reads them. */
    private TreeSet<Long> markedPages(long offset, long size) {
        MemorySegment bytes = ((Translation.Mapped) file.translate(offset, size)).segment();
        TreeSet<Long> pages = new TreeSet<>();
        for (long i = 0; i < size; i++) {
            byte b = bytes.get(ValueLayout.JAVA_BYTE, i);
            for (int bit = 0; bit < 8; bit++) {
                if ((b & (1 << bit)) != 0) {
                    pages.add(i * 8 + bit);
                }
            }
        }
        return pages;
    }

    private static TreeSet<Long> pages(long... pages) {
        return new TreeSet<>(LongStream.of(pages).boxed().toList());
    }

    private static TreeSet<Long> pageRange(long first, long last) {
        return new TreeSet<>(LongStream.rangeClosed(first, last).boxed().toList());
    }

    @Test
    void aWriteMarksExactlyThePagesItTouches() throws Exception {
        try (DirtyLog log = DirtyLog.map(memfd, 64, 0)) {
            assertEquals(512, log.pages());
            log.mark(5 * PAGE + 100, 10);
            assertEquals(pages(5), markedPages(0, 64));
            log.mark(7 * PAGE - 1, 2);
            assertEquals(pages(5, 6, 7), markedPages(0, 64));
            log.mark(20 * PAGE, PAGE);
            assertEquals(pages(5, 6, 7, 20), markedPages(0, 64));
            log.mark(30 * PAGE, 0);
            assertEquals(pages(5, 6, 7, 20), markedPages(0, 64), "an empty write marks nothing");
            assertTrue(log.isMarked(6 * PAGE + 17));
            assertFalse(log.isMarked(8 * PAGE));
        }
    }

    @Test
    void aLongWriteMarksEveryPageAcrossWords() throws Exception {
        try (DirtyLog log = DirtyLog.map(memfd, 64, 0)) {
            // Pages 60 to 200: the end of one 64-bit word, two whole words, the start of a fourth.
            log.mark(60 * PAGE + 1, 141 * PAGE - 2);
            assertEquals(pageRange(60, 200), markedPages(0, 64));
        }
    }

    @Test
    void pagesPastTheLogAreLeftOut() throws Exception {
        try (DirtyLog log = DirtyLog.map(memfd, 8, 0)) {
            log.mark(62 * PAGE, 10 * PAGE);
            assertEquals(pages(62, 63), markedPages(0, 16), "the log's 64 pages only; the byte after stays clear");
            log.mark(1000 * PAGE, 1);
            log.mark(-PAGE, 2 * PAGE);
            assertEquals(pages(62, 63), markedPages(0, 16));
        }
    }

    @Test
    void aLogAtAnUnalignedOffsetOfItsFileIsMarkedThere() throws Exception {
        long offset = PAGE + 3;
        try (DirtyLog log = DirtyLog.map(memfd, 20, offset)) {
            log.mark(0, 1);
            log.mark(9 * PAGE, 1);
            log.mark(159 * PAGE, 1);
            assertEquals(pages(0, 9, 159), markedPages(offset, 20));
            assertEquals(pages(0, 9, 159).stream().map(p -> p + 8 * offset).collect(java.util.stream.Collectors.toCollection(TreeSet::new)),
                    markedPages(0, FILE_SIZE), "nothing outside the log's 20 bytes");
        }
    }

    @Test
    void marksAddToWhatIsThereAndToWhatOtherThreadsMark() throws Exception {
        try (DirtyLog log = DirtyLog.map(memfd, 64, 0)) {
            int threads = 4;
            CountDownLatch start = new CountDownLatch(1);
            Thread[] workers = new Thread[threads];
            for (int t = 0; t < threads; t++) {
                int first = t;
                workers[t] = Thread.ofPlatform().start(() -> {
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    // Interleaved pages: every word is marked by every thread at once.
                    for (int round = 0; round < 1000; round++) {
                        for (long page = first; page < 512; page += threads) {
                            log.mark(page * PAGE, 1);
                        }
                    }
                });
            }
            start.countDown();
            for (Thread worker : workers) {
                worker.join();
            }
            assertEquals(pageRange(0, 511), markedPages(0, 64), "no bit lost to a racing writer");
        }
    }

    @Test
    void aLogPastTheEndOfItsFileIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> DirtyLog.map(memfd, FILE_SIZE, 1));
        assertThrows(IllegalArgumentException.class, () -> DirtyLog.map(memfd, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> DirtyLog.map(memfd, Long.MAX_VALUE, 2));
    }

    @Test
    void guestMemoryGivesTheGuestPhysicalAddressOfAHostAddress() throws Exception {
        long mib = 1 << 20;
        try (FileDescriptor guest = Memfd.create("dirty-log-guest", 2 * mib);
                GuestMemory memory = GuestMemory.map(List.of(
                        new GuestRegion(0x1_0000_0000L, mib, 0x7f00_0000_0000L, mib, guest),
                        new GuestRegion(0, mib, 0x7f80_0000_0000L, 0, guest)))) {
            MemorySegment high = ((Translation.Mapped) memory.translate(0x1_0000_0000L + 4096, 8)).segment();
            MemorySegment low = ((Translation.Mapped) memory.translate(mib - 1, 1)).segment();
            assertEquals(0x1_0000_0000L + 4096, memory.guestPhysAddrOf(high.address()));
            assertEquals(mib - 1, memory.guestPhysAddrOf(low.address()));
            assertEquals(-1, memory.guestPhysAddrOf(0x1000));
            assertEquals(-1, memory.guestPhysAddrOf(-8));
        }
    }
}
