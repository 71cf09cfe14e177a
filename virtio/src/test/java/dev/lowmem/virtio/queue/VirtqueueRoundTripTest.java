package dev.lowmem.virtio.queue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.stream.Stream;

import static dev.lowmem.virtio.queue.VirtqueueRig.DATA_BASE;
import static dev.lowmem.virtio.queue.VirtqueueRig.REGION_BOUNDARY;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Our driver side and device side exchanging chains through real guest memory, in every layout and mode. */
class VirtqueueRoundTripTest {
    private VirtqueueRig rig;
    private final DriverChain posted = new DriverChain(8);

    static Stream<Arguments> layoutsAndModes() {
        return Stream.of(QueueLayout.values()).flatMap(layout -> Stream.of(
                Arguments.of(layout, false), Arguments.of(layout, true)));
    }

    private void open(QueueLayout layout, int size, boolean eventIdx) throws Exception {
        rig = VirtqueueRig.open(layout, size, eventIdx);
    }

    @AfterEach
    void close() {
        if (rig != null) {
            rig.close();
        }
    }

    @ParameterizedTest
    @MethodSource("layoutsAndModes")
    void aFrameTheDriverPostsReachesTheDeviceByteForByte(QueueLayout layout, boolean eventIdx) throws Exception {
        open(layout, 16, eventIdx);
        byte[] frame = pattern(1500, 7);
        rig.bytes(DATA_BASE, frame.length).copyFrom(MemorySegment.ofArray(frame));
        int id = rig.driver().add(posted.clear().readable(DATA_BASE, 14).readable(DATA_BASE + 14, 1486), false);
        rig.driver().publish();

        DescriptorChain chain = rig.device().newChain();
        assertTrue(rig.device().pop(chain));
        assertNull(chain.error());
        assertEquals(id, chain.head());
        assertEquals(1500, chain.readableLength());
        assertEquals(0, chain.writableLength());
        assertArrayEquals(frame, copyOut(chain, 1500));

        rig.device().pushUsed(chain, 0);
        rig.device().publishUsed();
        assertEquals(id, rig.driver().takeUsed());
        assertEquals(0, rig.driver().usedLength());
        assertEquals(-1, rig.driver().takeUsed());
    }

    @ParameterizedTest
    @MethodSource("layoutsAndModes")
    void whatTheDeviceWritesTheDriverReadsWithItsLength(QueueLayout layout, boolean eventIdx) throws Exception {
        open(layout, 16, eventIdx);
        int id = rig.driver().add(posted.clear().readable(DATA_BASE, 12)
                .writable(DATA_BASE + 4096, 100).writable(DATA_BASE + 8192, 4000), false);
        rig.driver().publish();

        DescriptorChain chain = rig.device().newChain();
        assertTrue(rig.device().pop(chain));
        assertEquals(12, chain.readableLength());
        assertEquals(4100, chain.writableLength());
        byte[] reply = pattern(300, 3);
        assertEquals(300, chain.buffers().copyFrom(MemorySegment.ofArray(reply), chain.firstWritablePiece(), 0));
        rig.device().pushUsed(chain, 300);
        rig.device().publishUsed();

        assertEquals(id, rig.driver().takeUsed());
        assertEquals(300, rig.driver().usedLength());
        byte[] received = new byte[300];
        MemorySegment.copy(rig.bytes(DATA_BASE + 4096, 100), ValueLayout.JAVA_BYTE, 0, received, 0, 100);
        MemorySegment.copy(rig.bytes(DATA_BASE + 8192, 200), ValueLayout.JAVA_BYTE, 0, received, 100, 200);
        assertArrayEquals(reply, received);
    }

    @ParameterizedTest
    @MethodSource("layoutsAndModes")
    void anIndirectChainTakesOneRingDescriptorAndReadsLikeADirectOne(QueueLayout layout, boolean eventIdx)
            throws Exception {
        open(layout, 16, eventIdx);
        byte[] frame = pattern(64, 11);
        rig.bytes(DATA_BASE, 64).copyFrom(MemorySegment.ofArray(frame));
        int id = rig.driver().add(posted.clear().readable(DATA_BASE, 10).readable(DATA_BASE + 10, 54)
                .writable(DATA_BASE + 4096, 2048), true);
        rig.driver().publish();
        assertEquals(15, rig.driver().freeDescriptors());

        DescriptorChain chain = rig.device().newChain();
        assertTrue(rig.device().pop(chain));
        assertNull(chain.error());
        assertEquals(id, chain.head());
        assertEquals(3, chain.buffers().count());
        assertEquals(2, chain.firstWritablePiece());
        assertArrayEquals(frame, copyOut(chain, 64));
        rig.device().pushUsed(chain, 2048);
        rig.device().publishUsed();
        assertEquals(id, rig.driver().takeUsed());
        assertEquals(2048, rig.driver().usedLength());
        assertEquals(16, rig.driver().freeDescriptors());
    }

    @ParameterizedTest
    @MethodSource("layoutsAndModes")
    void aBufferAcrossTwoAdjacentRegionsBecomesTwoPieces(QueueLayout layout, boolean eventIdx) throws Exception {
        open(layout, 16, eventIdx);
        byte[] frame = pattern(256, 5);
        MemorySegment.copy(MemorySegment.ofArray(frame), 0, rig.bytes(REGION_BOUNDARY - 100, 100), 0, 100);
        MemorySegment.copy(MemorySegment.ofArray(frame), 100, rig.bytes(REGION_BOUNDARY, 156), 0, 156);
        for (boolean indirect : new boolean[] {false, true}) {
            int id = rig.driver().add(posted.clear().readable(REGION_BOUNDARY - 100, 256), indirect);
            rig.driver().publish();
            DescriptorChain chain = rig.device().newChain();
            assertTrue(rig.device().pop(chain));
            assertNull(chain.error(), chain::describeError);
            assertEquals(2, chain.buffers().count(), "indirect " + indirect);
            assertEquals(100, chain.buffers().length(0));
            assertEquals(156, chain.buffers().length(1));
            assertArrayEquals(frame, copyOut(chain, 256));
            rig.device().pushUsed(chain, 0);
            rig.device().publishUsed();
            assertEquals(id, rig.driver().takeUsed());
        }
    }

    /** 16-bit indices and packed wrap counters wrap many times; every chain comes back once, in order. */
    @ParameterizedTest
    @MethodSource("layoutsAndModes")
    void moreThan65536ChainsPassThroughASmallQueue(QueueLayout layout, boolean eventIdx) throws Exception {
        open(layout, 8, eventIdx);
        DescriptorChain chain = rig.device().newChain();
        Deque<Integer> expected = new ArrayDeque<>();
        int returned = 0;
        for (int round = 0; returned < 70_000; round++) {
            int burst = 1 + round % 4;
            for (int i = 0; i < burst; i++) {
                int length = 1 + (round + i) % 64;
                int id = rig.driver().add(posted.clear().readable(DATA_BASE, 4).writable(DATA_BASE + 64, length),
                        round % 3 == 0);
                assertTrue(id >= 0);
                expected.add(id);
            }
            rig.driver().publish();
            int popped = 0;
            while (rig.device().pop(chain)) {
                assertNull(chain.error());
                rig.device().pushUsed(chain, (int) chain.writableLength());
                popped++;
            }
            assertEquals(burst, popped);
            rig.device().publishUsed();
            for (int id; (id = rig.driver().takeUsed()) >= 0; returned++) {
                assertEquals(expected.poll(), id);
            }
            assertTrue(expected.isEmpty());
        }
    }

    /**
     * Each side reacts to a notification as a real one does: the device, woken by a kick, stops
     * asking for kicks while it works; the driver, interrupted, stops asking for interrupts while
     * it polls. A burst of 16 chains, each published on its own, then costs one kick and one
     * interrupt.
     */
    @ParameterizedTest
    @MethodSource("layoutsAndModes")
    void aBurstCostsOneKickAndOneInterrupt(QueueLayout layout, boolean eventIdx) throws Exception {
        open(layout, 64, eventIdx);
        DeviceQueue device = rig.device();
        DriverQueue driver = rig.driver();
        assertFalse(device.enableNotifications());
        assertFalse(driver.enableInterrupts());

        int kicks = 0;
        for (int i = 0; i < 16; i++) {
            driver.add(posted.clear().readable(DATA_BASE, 60), false);
            if (driver.publish()) {
                kicks++;
                device.disableNotifications();
            }
        }
        int interrupts = 0;
        DescriptorChain chain = device.newChain();
        while (device.pop(chain)) {
            device.pushUsed(chain, 0);
            device.publishUsed();
            if (device.needsInterrupt()) {
                interrupts++;
                driver.disableInterrupts();
            }
        }
        assertEquals(1, kicks);
        assertEquals(1, interrupts);

        int taken = 0;
        while (driver.takeUsed() >= 0) {
            taken++;
        }
        assertEquals(16, taken);
        assertFalse(device.enableNotifications(), "nothing arrived while the device was busy");
        assertFalse(driver.enableInterrupts(), "nothing arrived while the driver was polling");
        driver.add(posted.clear().readable(DATA_BASE, 60), false);
        assertTrue(driver.publish(), "a sleeping device is kicked again");
    }

    @ParameterizedTest
    @MethodSource("layoutsAndModes")
    void aChainPublishedJustBeforeTheDeviceSleepsIsSeenByTheRecheck(QueueLayout layout, boolean eventIdx)
            throws Exception {
        open(layout, 16, eventIdx);
        DescriptorChain chain = rig.device().newChain();
        rig.driver().add(posted.clear().readable(DATA_BASE, 60), false);
        assertTrue(rig.driver().publish(), "a fresh device wants a kick");
        rig.device().disableNotifications();
        assertTrue(rig.device().pop(chain));

        rig.driver().add(posted.clear().readable(DATA_BASE, 60), false);
        assertFalse(rig.driver().publish(), "a busy device is not kicked");
        assertTrue(rig.device().enableNotifications(), "the device must look again before it sleeps");
        assertTrue(rig.device().pop(chain));
    }

    @ParameterizedTest
    @MethodSource("layoutsAndModes")
    void interruptsFollowTheDriversRequestWhenItSleeps(QueueLayout layout, boolean eventIdx) throws Exception {
        open(layout, 16, eventIdx);
        DescriptorChain chain = rig.device().newChain();
        for (int round = 0; round < 3; round++) {
            if (round == 1) {
                rig.driver().disableInterrupts();
            } else {
                assertFalse(rig.driver().enableInterrupts());
            }
            rig.driver().add(posted.clear().readable(DATA_BASE, 60), false);
            rig.driver().publish();
            assertTrue(rig.device().pop(chain));
            rig.device().pushUsed(chain, 0);
            assertFalse(rig.device().needsInterrupt(), "nothing published yet");
            rig.device().publishUsed();
            switch (round) {
                case 0 -> assertTrue(rig.device().needsInterrupt(), "the first publish of a queue interrupts");
                case 1 -> assertFalse(rig.device().needsInterrupt(), "a polling driver is not interrupted");
                default -> assertTrue(rig.device().needsInterrupt(), "a sleeping driver is interrupted");
            }
            assertFalse(rig.device().needsInterrupt(), "once per publish");
            rig.driver().takeUsed();
        }
    }

    /**
     * A driver that asks to be interrupted only when three quarters of its 8 chains in flight are
     * used (Linux's delayed callback) is interrupted by the publish that covers the 7th, not
     * before and not again; round after round, so the event falls in every slot and lap.
     */
    @ParameterizedTest
    @EnumSource(QueueLayout.class)
    void aDelayedInterruptComesWhenThreeQuartersAreUsed(QueueLayout layout) throws Exception {
        open(layout, 8, true);
        DeviceQueue device = rig.device();
        DriverQueue driver = rig.driver();
        DescriptorChain chain = device.newChain();
        driver.add(posted.clear().readable(DATA_BASE, 60), false);
        driver.publish();
        assertTrue(device.pop(chain));
        device.pushUsed(chain, 0);
        device.publishUsed();
        assertTrue(device.needsInterrupt(), "the first publish of a queue interrupts");
        driver.takeUsed();

        for (int round = 0; round < 40; round++) {
            for (int i = 0; i < 8; i++) {
                driver.add(posted.clear().readable(DATA_BASE, 60), false);
            }
            driver.publish();
            assertFalse(driver.enableInterruptsDelayed());
            int[] publishes = {4, 2, 1, 1};
            boolean[] interrupts = {false, false, true, false};
            for (int p = 0; p < publishes.length; p++) {
                for (int i = 0; i < publishes[p]; i++) {
                    assertTrue(device.pop(chain));
                    device.pushUsed(chain, 0);
                }
                device.publishUsed();
                assertEquals(interrupts[p], device.needsInterrupt(), "round " + round + ", publish " + p);
            }
            for (int i = 0; i < 8; i++) {
                assertTrue(driver.takeUsed() >= 0);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(QueueLayout.class)
    void aDelayedRequestSeesChainsAlreadyUsed(QueueLayout layout) throws Exception {
        open(layout, 8, true);
        DescriptorChain chain = rig.device().newChain();
        for (int i = 0; i < 8; i++) {
            rig.driver().add(posted.clear().readable(DATA_BASE, 60), false);
        }
        rig.driver().publish();
        for (int i = 0; i < 7; i++) {
            assertTrue(rig.device().pop(chain));
            rig.device().pushUsed(chain, 0);
        }
        rig.device().publishUsed();
        assertTrue(rig.driver().enableInterruptsDelayed(), "7 of 8 are used already: poll");
    }

    /**
     * A device stopped after popping 13 chains, as GET_VRING_BASE stops it, and a new one opened
     * at its ring base: the new one takes the 14th chain, and its first publish interrupts even
     * though the driver's used_event, never re-armed, asks for nothing (it may be waiting on
     * entries the old device published without signalling).
     */
    @ParameterizedTest
    @MethodSource("layoutsAndModes")
    void aReopenedDeviceResumesFromTheRingBase(QueueLayout layout, boolean eventIdx) throws Exception {
        open(layout, 8, eventIdx);
        DescriptorChain chain = rig.device().newChain();
        for (int round = 0; round < 13; round++) {
            int id = rig.driver().add(posted.clear().readable(DATA_BASE, 60).readable(DATA_BASE + 60, 4), false);
            rig.driver().publish();
            assertTrue(rig.device().pop(chain));
            rig.device().pushUsed(chain, 0);
            rig.device().publishUsed();
            rig.device().needsInterrupt();
            assertEquals(id, rig.driver().takeUsed());
        }
        int last = rig.driver().add(posted.clear().readable(DATA_BASE, 60).readable(DATA_BASE + 60, 4), false);
        rig.driver().publish();

        DeviceQueue resumed = rig.reopenDevice(rig.device().ringBase());
        assertTrue(resumed.pop(chain));
        assertEquals(last, chain.head());
        assertEquals(64, chain.readableLength());
        resumed.pushUsed(chain, 0);
        resumed.publishUsed();
        assertTrue(resumed.needsInterrupt());
        assertEquals(last, rig.driver().takeUsed());
        assertEquals(rig.device().ringBase() + (layout == QueueLayout.SPLIT ? 1 : 0x2_0002), resumed.ringBase());
    }

    /**
     * A packed ring base whose used half is slot 0 of a second lap (wrap counter 0) encodes as 0
     * in its upper half: it must still be read as that position, not as "same as available".
     */
    @Test
    void aPackedRingBaseWithUsedAtSlotZeroOfTheSecondLapIsReadAsSuch() throws Exception {
        open(QueueLayout.PACKED, 8, false);
        DescriptorChain chain = rig.device().newChain();
        for (int i = 0; i < 8; i++) {
            rig.driver().add(posted.clear().readable(DATA_BASE, 60), false);
            rig.driver().publish();
            assertTrue(rig.device().pop(chain));
            rig.device().pushUsed(chain, 0);
            rig.device().publishUsed();
            assertTrue(rig.driver().takeUsed() >= 0);
        }
        for (int i = 0; i < 2; i++) {
            rig.driver().add(posted.clear().readable(DATA_BASE, 60), false);
        }
        rig.driver().publish();
        assertTrue(rig.device().pop(chain));
        assertTrue(rig.device().pop(chain));
        assertEquals(0x0000_0002, rig.device().ringBase(), "available slot 2 and used slot 0, both in lap 2");

        int next = rig.driver().add(posted.clear().readable(DATA_BASE, 60), false);
        rig.driver().publish();
        DeviceQueue resumed = rig.reopenDevice(rig.device().ringBase());
        assertTrue(resumed.pop(chain));
        assertEquals(next, chain.head());
        resumed.pushUsed(chain, 0);
        resumed.publishUsed();
        assertEquals(next, rig.driver().takeUsed(), "the used element lands where the driver looks");
    }

    /**
     * RX pops chains for a frame, finds them too few, gives them back and waits: for new chains,
     * not for those it already has. It must not be told to go on at once (it would spin), and
     * the driver's next chain must kick it.
     */
    @ParameterizedTest
    @MethodSource("layoutsAndModes")
    void chainsGivenBackForWantOfRoomWaitForNewOnes(QueueLayout layout, boolean eventIdx) throws Exception {
        open(layout, 16, eventIdx);
        DescriptorChain[] chains = {rig.device().newChain(), rig.device().newChain(), rig.device().newChain()};
        for (int i = 0; i < 3; i++) {
            rig.driver().add(posted.clear().writable(DATA_BASE + 2048L * i, 1500), false);
        }
        rig.driver().publish();
        for (DescriptorChain chain : chains) {
            assertTrue(rig.device().pop(chain));
        }
        for (int i = 2; i >= 0; i--) {
            rig.device().unpop(chains[i]);
        }
        assertFalse(rig.device().enableNotifications(), "nothing new: sleep");

        rig.driver().add(posted.clear().writable(DATA_BASE + 8192, 1500), false);
        assertTrue(rig.driver().publish(), "a new chain kicks the waiting device");
        assertTrue(rig.device().enableNotifications(), "and is seen by the re-check as well");
        int popped = 0;
        while (rig.device().pop(chains[0])) {
            popped++;
        }
        assertEquals(4, popped);
    }

    @ParameterizedTest
    @MethodSource("layoutsAndModes")
    void chainsGivenBackArePoppedAgain(QueueLayout layout, boolean eventIdx) throws Exception {
        open(layout, 16, eventIdx);
        int first = rig.driver().add(posted.clear().writable(DATA_BASE, 100), false);
        int second = rig.driver().add(posted.clear().writable(DATA_BASE + 100, 100).writable(DATA_BASE + 200, 50), false);
        rig.driver().publish();
        DescriptorChain a = rig.device().newChain();
        DescriptorChain b = rig.device().newChain();
        assertTrue(rig.device().pop(a));
        assertTrue(rig.device().pop(b));
        rig.device().unpop(b);
        rig.device().unpop(a);
        assertTrue(rig.device().pop(b));
        assertEquals(first, b.head());
        assertTrue(rig.device().pop(a));
        assertEquals(second, a.head());
        assertEquals(150, a.writableLength());
    }

    @ParameterizedTest
    @EnumSource(QueueLayout.class)
    void aDeviceCannotClaimMoreWrittenBytesThanTheChainHolds(QueueLayout layout) throws Exception {
        open(layout, 16, false);
        rig.driver().add(posted.clear().writable(DATA_BASE, 100), false);
        rig.driver().publish();
        DescriptorChain chain = rig.device().newChain();
        assertTrue(rig.device().pop(chain));
        assertThrows(IllegalArgumentException.class, () -> rig.device().pushUsed(chain, 101));
    }

    @ParameterizedTest
    @EnumSource(QueueLayout.class)
    void aFullRingTakesNoMoreChains(QueueLayout layout) throws Exception {
        open(layout, 4, false);
        for (int i = 0; i < 4; i++) {
            assertTrue(rig.driver().add(posted.clear().readable(DATA_BASE, 10), false) >= 0);
        }
        assertEquals(-1, rig.driver().add(posted.clear().readable(DATA_BASE, 10), false));
    }

    private static byte[] pattern(int length, int seed) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (i * 31 + seed);
        }
        return bytes;
    }

    private static byte[] copyOut(DescriptorChain chain, int length) {
        MemorySegment out = Arena.ofAuto().allocate(length);
        assertEquals(length, chain.buffers().copyTo(0, 0, out));
        return out.toArray(ValueLayout.JAVA_BYTE);
    }

}
