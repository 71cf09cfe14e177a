package dev.lowmem.virtio.queue;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.lowmem.virtio.queue.VirtqueueRig.DATA_BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random interleavings of what a driver and a device do to one queue. Whatever the order:
 * <ul>
 * <li>every chain the driver adds reaches the device with the buffers it was given, and comes
 *     back to the driver exactly once with the length the device wrote;</li>
 * <li>under IN_ORDER (the device returns chains in the order it took them) they come back in the
 *     order they were added;</li>
 * <li>no wake-up is lost: a device that went to sleep (with the ring empty, or after giving back
 *     chains too few for a frame) is kicked by the publish of a chain it has not seen; a driver
 *     that went to sleep is interrupted by the next used chains.</li>
 * </ul>
 * Each script step is a number: its remainder by the number of operations picks the operation,
 * the rest is the operation's argument.
 */
class VirtqueuePropertyTest {
    private static final int SIZE = 16;
    private static final int OPERATIONS = 11;

    private record Posting(long sequence, long readable, long writable) {
    }

    @Property(tries = 300)
    void chainsComeBackOnceWithTheirLengthAndNoWakeUpIsLost(
            @ForAll QueueLayout layout, @ForAll boolean eventIdx, @ForAll boolean inOrder,
            @ForAll @Size(max = 400) List<@IntRange(min = 0, max = 100_000) Integer> script) throws Exception {
        try (VirtqueueRig rig = VirtqueueRig.open(layout, SIZE, eventIdx)) {
            new Run(rig, inOrder).play(script);
        }
    }

    private static final class Run {
        private final DriverQueue driver;
        private final DeviceQueue device;
        private final boolean inOrder;
        private final DriverChain posting = new DriverChain(4);
        private final Map<Integer, Posting> inFlight = new HashMap<>();
        private final Map<Integer, Integer> writtenLengths = new HashMap<>();
        private final Deque<DescriptorChain> spareChains = new ArrayDeque<>();
        private final List<DescriptorChain> held = new ArrayList<>();
        /** Chains popped since the last push, latest first: those the device may still give back. */
        private final Deque<DescriptorChain> givable = new ArrayDeque<>();
        private long added;
        private long lastReturnedSequence = -1;
        /** Ids of chains the device has never popped: a device asleep must be kicked when they are published. */
        private final Set<Integer> neverPopped = new HashSet<>();
        private int unpublishedPushes;
        private boolean deviceAsleep;
        private boolean driverAsleep;

        Run(VirtqueueRig rig, boolean inOrder) {
            this.driver = rig.driver();
            this.device = rig.device();
            this.inOrder = inOrder;
            for (int i = 0; i < SIZE; i++) {
                spareChains.add(device.newChain());
            }
        }

        void play(List<Integer> script) {
            for (int step : script) {
                int argument = step / OPERATIONS;
                switch (step % OPERATIONS) {
                    case 0, 1 -> add(argument);
                    case 2 -> publish();
                    case 3, 4 -> pop();
                    case 5 -> pushUsed(argument);
                    case 6 -> devicePublish();
                    case 7 -> takeUsed();
                    case 8 -> deviceSleeps();
                    case 9 -> driverAsleep = !driver.enableInterrupts();
                    case 10 -> giveBackAndSleep();
                    default -> throw new AssertionError();
                }
            }
            drain();
            assertTrue(inFlight.isEmpty(), () -> "never returned: " + inFlight.keySet());
            assertNull(device.fault());
        }

        private void add(int argument) {
            int buffers = 1 + argument % 4;
            int writable = (argument / 4) % (buffers + 1);
            boolean indirect = (argument / 20) % 2 == 0;
            posting.clear();
            long readableBytes = 0;
            long writableBytes = 0;
            for (int i = 0; i < buffers; i++) {
                int length = 1 + (argument * 7 + i * 13) % 2000;
                long address = DATA_BASE + 4096L * i;
                if (i < buffers - writable) {
                    posting.readable(address, length);
                    readableBytes += length;
                } else {
                    posting.writable(address, length);
                    writableBytes += length;
                }
            }
            int id = driver.add(posting, indirect);
            if (id >= 0) {
                assertNull(inFlight.put(id, new Posting(added++, readableBytes, writableBytes)), "id reused while in flight");
                neverPopped.add(id);
            }
        }

        private void publish() {
            boolean kick = driver.publish();
            if (deviceAsleep && !neverPopped.isEmpty()) {
                assertTrue(kick, "a sleeping device must be kicked");
                deviceAsleep = false;
            }
        }

        private boolean pop() {
            DescriptorChain chain = spareChains.peek();
            if (chain == null || !device.pop(chain)) {
                return false;
            }
            deviceAsleep = false;
            neverPopped.remove(chain.head());
            spareChains.pop();
            assertNull(chain.error(), chain::describeError);
            Posting posted = inFlight.get(chain.head());
            assertNotNull(posted, "the device popped a chain the driver never added");
            assertEquals(posted.readable(), chain.readableLength());
            assertEquals(posted.writable(), chain.writableLength());
            held.add(chain);
            givable.push(chain);
            return true;
        }

        /** As a worker does: pops until the ring is empty, then asks for a kick before sleeping. */
        private void deviceSleeps() {
            while (pop()) {
                // held until pushed
            }
            if (!spareChains.isEmpty()) {
                sleepUnlessMoreCame();
            }
        }

        /** A worker that finds new chains on the re-check takes them instead of sleeping. */
        private void sleepUnlessMoreCame() {
            deviceAsleep = !device.enableNotifications();
            if (!deviceAsleep) {
                device.disableNotifications();
                while (pop()) {
                    // held until pushed
                }
            }
        }

        /**
         * As RX does when all the chains it can pop are too few for a frame: gives back those it
         * popped since its last push and sleeps.
         */
        private void giveBackAndSleep() {
            while (pop()) {
                // too few, as it turns out
            }
            while (!givable.isEmpty()) {
                DescriptorChain chain = givable.pop();
                device.unpop(chain);
                held.remove(chain);
                spareChains.push(chain);
            }
            sleepUnlessMoreCame();
        }

        private void pushUsed(int argument) {
            if (held.isEmpty()) {
                return;
            }
            DescriptorChain chain = held.remove(inOrder ? 0 : argument % held.size());
            givable.clear();
            int written = (int) (argument % (chain.writableLength() + 1));
            writtenLengths.put(chain.head(), written);
            device.pushUsed(chain, written);
            unpublishedPushes++;
            spareChains.push(chain);
        }

        private void devicePublish() {
            boolean anyNew = unpublishedPushes > 0;
            unpublishedPushes = 0;
            device.publishUsed();
            boolean interrupt = device.needsInterrupt();
            if (driverAsleep && anyNew) {
                assertTrue(interrupt, "a sleeping driver must be interrupted");
                driverAsleep = false;
            }
        }

        private boolean takeUsed() {
            int id = driver.takeUsed();
            if (id < 0) {
                return false;
            }
            driverAsleep = false;
            Posting posted = inFlight.remove(id);
            assertNotNull(posted, "chain " + id + " came back but was not in flight");
            assertEquals(writtenLengths.remove(id), driver.usedLength());
            if (inOrder) {
                assertTrue(posted.sequence() > lastReturnedSequence, "out of order under IN_ORDER");
            }
            lastReturnedSequence = posted.sequence();
            return true;
        }

        /** Finishes every chain in flight: nothing may be stuck. */
        private void drain() {
            publish();
            while (!inFlight.isEmpty()) {
                boolean progress = false;
                while (pop()) {
                    progress = true;
                }
                while (!held.isEmpty()) {
                    pushUsed(0);
                }
                devicePublish();
                while (takeUsed()) {
                    progress = true;
                }
                assertTrue(progress, () -> "stuck with chains in flight: " + inFlight.keySet());
            }
        }
    }
}
