package dev.lowmem.devices.port.sw;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The learning table: what it learns, how a MAC moves and ages, and that a lookup allocates nothing. */
class MacTableTest {
    private static final long A = 0x525400000001L;
    private static final long B = 0x525400000002L;
    private static final long BROADCAST = 0xFFFFFFFFFFFFL;
    /** 01:00:5e:00:00:01, an IPv4 multicast group. */
    private static final long MULTICAST = 0x01005E000001L;
    private static final Duration AGEING = Duration.ofSeconds(300);

    private long now = 1_000_000_000L;
    private final MacTable table = new MacTable(AGEING, () -> now);

    @Test
    void aSourceIsFoundOnThePortItCameFrom() {
        table.learn(A, 1);
        table.learn(B, 2);

        assertEquals(1, table.lookup(A));
        assertEquals(2, table.lookup(B));
        assertEquals(MacTable.UNKNOWN, table.lookup(0x525400000003L));
        assertEquals(2, table.size());
    }

    @Test
    void aMacSeenOnAnotherPortMovesThere() {
        table.learn(A, 1);
        table.learn(A, 3);

        assertEquals(3, table.lookup(A));
        assertEquals(1, table.size());
    }

    @Test
    void anEntryAgesOutAfterTheAgeingTimeOfSilenceAndEachFrameRefreshesIt() {
        table.learn(A, 1);
        now += AGEING.toNanos() - 1;
        table.learn(A, 1);
        now += AGEING.toNanos();
        assertEquals(1, table.lookup(A), "refreshed by the second frame");

        now += 1;
        assertEquals(MacTable.UNKNOWN, table.lookup(A));
        assertEquals(0, table.size());

        table.learn(A, 2);
        assertEquals(2, table.lookup(A), "learned again when it speaks again");
    }

    @Test
    void broadcastAndMulticastAreNeverLearned() {
        table.learn(BROADCAST, 1);
        table.learn(MULTICAST, 1);

        assertEquals(MacTable.UNKNOWN, table.lookup(BROADCAST));
        assertEquals(MacTable.UNKNOWN, table.lookup(MULTICAST));
        assertEquals(0, table.size());
        assertTrue(MacTable.isGroup(BROADCAST) && MacTable.isGroup(MULTICAST) && !MacTable.isGroup(A));
    }

    @Test
    void theAllZeroMacIsAKeyLikeAnyOther() {
        table.learn(0, 4);

        assertEquals(4, table.lookup(0));
    }

    @Test
    void itGrowsPastItsFirstSizeAndForgetsAgedEntriesWhenItRebuilds() {
        for (int i = 0; i < 5000; i++) {
            table.learn(0x020000000000L + i, i % 7);
        }
        for (int i = 0; i < 5000; i++) {
            assertEquals(i % 7, table.lookup(0x020000000000L + i), "MAC " + i);
        }
        now += AGEING.toNanos() + 1;
        for (int i = 0; i < 5000; i++) {
            table.learn(0x040000000000L + i, 1);
        }
        assertEquals(5000, table.size());
        assertEquals(MacTable.UNKNOWN, table.lookup(0x020000000000L));
    }

    @Test
    void readsMacsFromAFrameInNetworkOrder() {
        byte[] frame = {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF,
            0x52, 0x54, 0x00, 0x00, 0x00, 0x01};

        assertEquals(BROADCAST, MacTable.macAt(MemorySegment.ofArray(frame), 0));
        assertEquals(A, MacTable.macAt(MemorySegment.ofArray(frame), 6));
    }

    /**
     * HotSpot's per-thread count of allocated bytes, as vmm-core's HotPathAllocationTest uses it:
     * bounded by fewer bytes than lookups, not zero, for a late compilation may allocate once.
     */
    @Test
    void lookingUpAndRefreshingAllocateNothing() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        MacTable clocked = new MacTable(AGEING, System::nanoTime);
        for (int i = 0; i < 64; i++) {
            clocked.learn(0x525400000000L + i, i);
        }
        long found = 0;
        for (int round = 0; round < 20_000; round++) {
            found += cycle(clocked);
        }
        long before = threads.getCurrentThreadAllocatedBytes();
        int rounds = 50_000;
        for (int round = 0; round < rounds; round++) {
            found += cycle(clocked);
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;

        assertTrue(allocated < rounds * 64L, allocated + " bytes allocated over " + rounds * 64L + " lookups");
        assertTrue(found > 0);
    }

    private static long cycle(MacTable table) {
        long found = 0;
        for (int i = 0; i < 64; i++) {
            table.learn(0x525400000000L + i, i);
            found += table.lookup(0x525400000000L + (i ^ 1)) + table.lookup(BROADCAST);
        }
        return found;
    }
}
