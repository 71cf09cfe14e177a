package dev.lowmem.virtio.queue;

import dev.lowmem.vmm.core.event.Epoll;
import dev.lowmem.vmm.core.event.EpollEvents;
import dev.lowmem.vmm.core.event.EventFd;
import dev.lowmem.vmm.core.nativeio.LibC;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static dev.lowmem.virtio.queue.VirtqueueRig.DATA_BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Driver and device on two threads, each sleeping in epoll on its eventfd whenever it has nothing
 * to do, as a guest and a worker do. The ordering rules (release, acquire, the full fence before
 * each suppression decision, the re-check after re-enabling) are what keep either side from
 * sleeping through the other's work: a lost kick or interrupt shows here as a side that sleeps
 * for the whole timeout.
 */
class ConcurrentQueueTest {
    private static final int CHAINS = 100_000;
    private static final int LOST_WAKEUP_MILLIS = 10_000;

    static Stream<Arguments> layoutsAndModes() {
        return Stream.of(QueueLayout.values()).flatMap(layout -> Stream.of(
                Arguments.of(layout, false), Arguments.of(layout, true)));
    }

    @ParameterizedTest
    @MethodSource("layoutsAndModes")
    void noWakeUpIsLostBetweenTwoThreads(QueueLayout layout, boolean eventIdx) throws Exception {
        try (VirtqueueRig rig = VirtqueueRig.open(layout, 64, eventIdx);
             Sleeper kick = new Sleeper(); Sleeper call = new Sleeper()) {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread device = Thread.ofPlatform().name("device").start(() -> guard(failure,
                    () -> runDevice(rig.device(), kick, call)));
            Thread driver = Thread.ofPlatform().name("driver").start(() -> guard(failure,
                    () -> runDriver(rig.driver(), kick, call)));
            driver.join(TimeUnit.MINUTES.toMillis(2));
            device.join(TimeUnit.MINUTES.toMillis(2));
            assertNull(failure.get());
        }
    }

    private static void runDriver(DriverQueue driver, Sleeper kick, Sleeper call) throws NativeIoException {
        DriverChain chain = new DriverChain(2);
        int sent = 0;
        int received = 0;
        int sleeps = 0;
        while (received < CHAINS) {
            while (sent < CHAINS && driver.add(chain.clear().readable(DATA_BASE, 64).writable(DATA_BASE + 64, 64),
                    sent % 3 == 0) >= 0) {
                sent++;
            }
            if (driver.publish()) {
                kick.wake();
            }
            int taken = 0;
            for (int id; (id = driver.takeUsed()) >= 0; taken++) {
                assertEquals(64, driver.usedLength());
            }
            received += taken;
            if (taken == 0 && received < CHAINS) {
                // Widens the window in which the device publishes unseen, as a driver's other work would.
                Thread.yield();
                // Half the time as Linux's transmit path does: woken only when 3/4 are done.
                if (sleeps++ % 2 == 0 ? driver.enableInterrupts() : driver.enableInterruptsDelayed()) {
                    continue;
                }
                if (!call.sleep(LOST_WAKEUP_MILLIS)) {
                    throw new AssertionError("lost interrupt: " + received + " of " + CHAINS + " chains back");
                }
                driver.disableInterrupts();
            }
        }
    }

    private static void runDevice(DeviceQueue device, Sleeper kick, Sleeper call) throws NativeIoException {
        DescriptorChain chain = device.newChain();
        int handled = 0;
        while (handled < CHAINS) {
            int popped = 0;
            while (device.pop(chain)) {
                assertNull(chain.error());
                device.pushUsed(chain, (int) chain.writableLength());
                popped++;
            }
            if (popped > 0) {
                handled += popped;
                device.publishUsed();
                if (device.needsInterrupt()) {
                    call.wake();
                }
                continue;
            }
            // Widens the window in which the driver publishes unseen, as a worker's poll window would.
            Thread.yield();
            if (device.enableNotifications()) {
                device.disableNotifications();
                continue;
            }
            if (!kick.sleep(LOST_WAKEUP_MILLIS)) {
                throw new AssertionError("lost kick: " + handled + " of " + CHAINS + " chains handled");
            }
            device.disableNotifications();
        }
    }

    private static void guard(AtomicReference<Throwable> failure, ThrowingRunnable body) {
        try {
            body.run();
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        }
    }

    @FunctionalInterface
    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    /** An eventfd to be woken through and an epoll set to sleep on it. */
    private static final class Sleeper implements AutoCloseable {
        private final EventFd eventFd = EventFd.create();
        private final Epoll epoll = Epoll.create();
        private final Arena arena = Arena.ofShared();
        private final EpollEvents ready = new EpollEvents(arena, 1);

        Sleeper() throws NativeIoException {
            epoll.add(eventFd.fd(), LibC.EPOLLIN, 1);
        }

        void wake() throws NativeIoException {
            eventFd.signal();
        }

        /** @return false when nothing woke it within the timeout */
        boolean sleep(int timeoutMillis) throws NativeIoException {
            boolean woken = epoll.wait(ready, timeoutMillis) > 0;
            eventFd.read();
            return woken;
        }

        @Override
        public void close() {
            epoll.close();
            eventFd.close();
            arena.close();
        }
    }
}
