package dev.lowmem.virtio.queue;

import static dev.lowmem.virtio.queue.VirtqueueRig.DATA_BASE;
import static dev.lowmem.virtio.queue.VirtqueueRig.MEMORY_END;
import static dev.lowmem.virtio.queue.VirtqueueRig.REGION_BOUNDARY;
import static dev.lowmem.virtio.queue.VirtqueueRig.RING_BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.vmm.core.memory.DirtyLog;
import dev.lowmem.vmm.core.memory.Memfd;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import java.util.TreeSet;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What a device queue marks in a dirty-page log on a real memfd: the bytes a chain comes back
 * with (as far as its written length, by guest-physical address, across a region boundary), and
 * the device's own ring writes, each exactly its pages. The used ring (packed: the device event
 * area) is marked at the log address the front-end gave, here 6 MiB, away from where it lies.
 */
class QueueWriteLogTest {
    private static final long PAGE = DirtyLog.PAGE_SIZE;
    private static final long USED_LOG = 6 << 20;

    private final FileDescriptor logFd;
    private final DirtyLog log;
    private VirtqueueRig rig;
    private final DriverChain posted = new DriverChain(8);

    QueueWriteLogTest() throws Exception {
        logFd = Memfd.create("queue-write-log", PAGE);
        log = DirtyLog.map(logFd, MEMORY_END / PAGE / 8, 0);
    }

    @AfterEach
    void close() {
        if (rig != null) {
            rig.close();
        }
        log.close();
        logFd.close();
    }

    private TreeSet<Long> marked() {
        TreeSet<Long> pages = new TreeSet<>();
        for (long page = 0; page < log.pages(); page++) {
            if (log.isMarked(page * PAGE)) {
                pages.add(page);
            }
        }
        return pages;
    }

    private static TreeSet<Long> pages(long... addresses) {
        return new TreeSet<>(LongStream.of(addresses).map(a -> a / PAGE).boxed().toList());
    }

    /** Posts a chain: 12 readable bytes, then 100 writable bytes straddling a page, then 3 pages straddling the regions' boundary. */
    private DescriptorChain postAndPop() {
        rig.driver().add(posted.clear().readable(DATA_BASE, 12).writable(DATA_BASE + 2 * PAGE - 50, 100)
                .writable(REGION_BOUNDARY - PAGE, (int) (3 * PAGE)), false);
        rig.driver().publish();
        DescriptorChain chain = rig.device().newChain();
        assertTrue(rig.device().pop(chain));
        return chain;
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aSplitQueueMarksTheBytesItReturnsAndItsUsedRing(boolean eventIdx) throws Exception {
        rig = VirtqueueRig.open(QueueLayout.SPLIT, 16, eventIdx);
        rig.device().setWriteLog(log, USED_LOG);
        DescriptorChain chain = postAndPop();
        assertTrue(marked().isEmpty(), "popping writes nothing");

        // 100 bytes over the page boundary, then 4096 + 10 bytes from the page below the regions' boundary.
        rig.device().pushUsed(chain, 100 + (int) PAGE + 10);
        assertEquals(pages(DATA_BASE + PAGE, DATA_BASE + 2 * PAGE, REGION_BOUNDARY - PAGE, REGION_BOUNDARY, USED_LOG),
                marked(), "the written bytes' pages, not the rest of the chain, and the used element at the log address");

        rig.device().publishUsed();
        rig.device().enableNotifications();
        rig.device().disableNotifications();
        assertEquals(pages(DATA_BASE + PAGE, DATA_BASE + 2 * PAGE, REGION_BOUNDARY - PAGE, REGION_BOUNDARY, USED_LOG),
                marked(), "used idx, avail_event and flags are in the used ring's page");
    }

    @Test
    void aSplitRingWhoseUsedRingIsNotLoggedMarksTheDataAlone() throws Exception {
        rig = VirtqueueRig.open(QueueLayout.SPLIT, 16, true);
        rig.device().setWriteLog(log, -1);
        DescriptorChain chain = postAndPop();
        rig.device().pushUsed(chain, 20);
        rig.device().publishUsed();
        rig.device().enableNotifications();
        assertEquals(pages(DATA_BASE + PAGE), marked());
    }

    @Test
    void usedRingWritesLandAtTheirOffsetFromTheLogAddress() throws Exception {
        rig = VirtqueueRig.open(QueueLayout.SPLIT, 1024, true);
        // The used ring of 1024 entries is 8 KiB: its avail_event is marked a page past the log address's.
        long usedLog = USED_LOG - 8;
        rig.device().setWriteLog(log, usedLog);
        rig.device().enableNotifications();
        assertEquals(pages(usedLog + SplitRing.availEvent(1024)), marked());
        assertEquals(USED_LOG / PAGE + 1, marked().first());
    }

    @Test
    void aPackedQueueMarksTheBytesAndTheDescriptorsItWritesBack() throws Exception {
        rig = VirtqueueRig.open(QueueLayout.PACKED, 16, true);
        rig.device().setWriteLog(log, USED_LOG);
        DescriptorChain chain = postAndPop();
        rig.device().pushUsed(chain, 50);
        rig.device().publishUsed();
        long descRing = rig.config().rings().descArea();
        assertEquals(pages(DATA_BASE + PAGE, descRing), marked(), "the 50 bytes' page and the descriptor ring's");
        rig.device().enableNotifications();
        assertEquals(pages(DATA_BASE + PAGE, descRing, USED_LOG), marked(), "and the device event area at its log address");
        assertEquals(RING_BASE / PAGE, descRing / PAGE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"SPLIT", "PACKED"})
    void withoutALogNothingIsMarked(String layout) throws Exception {
        rig = VirtqueueRig.open(QueueLayout.valueOf(layout), 16, true);
        rig.device().setWriteLog(log, USED_LOG);
        rig.device().setWriteLog(null, USED_LOG);
        DescriptorChain chain = postAndPop();
        rig.device().pushUsed(chain, 4000);
        rig.device().publishUsed();
        rig.device().enableNotifications();
        rig.device().disableNotifications();
        assertTrue(marked().isEmpty(), "logging off marks nothing: " + marked());
    }
}
