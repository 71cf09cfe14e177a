package dev.lowmem.virtio.vhostuser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import dev.lowmem.virtio.queue.QueueLayout;
import dev.lowmem.virtio.queue.RingAddresses;
import dev.lowmem.vmm.core.memory.DirtyLog;
import dev.lowmem.vmm.core.memory.Memfd;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Dirty-page logging over a real UNIX socket, our front-end doing what QEMU does when a migration
 * starts: with the rings running, SET_LOG_BASE with a memfd log, SET_FEATURES with VHOST_F_LOG_ALL,
 * SET_VRING_ADDR with VHOST_VRING_F_LOG and the used ring's guest-physical address. The front-end
 * reads the log through its own mapping of the memfd. Guest memory goes as two regions whose user
 * addresses (our mapping's) are far from their guest-physical ones, so a log marked by user
 * address would show nowhere.
 */
@Timeout(60)
class DirtyLoggingTest {
    private static final long PAGE = DirtyLog.PAGE_SIZE;
    private static final long LOG_SIZE = EchoDriver.MEMORY_SIZE / PAGE / 8;

    @TempDir
    Path directory;
    private BackendFixture backend;

    @BeforeEach
    void listen() throws Exception {
        backend = BackendFixture.listen(directory);
    }

    @AfterEach
    void close() throws Exception {
        backend.close();
    }

    /** A log as QEMU makes one: a memfd the front-end maps too, to read what the back-end marked. */
    private record FrontendLog(FileDescriptor fd, DirtyLog view) implements AutoCloseable {
        static FrontendLog create(String name) throws Exception {
            FileDescriptor fd = Memfd.create(name, LOG_SIZE);
            return new FrontendLog(fd, DirtyLog.map(fd, LOG_SIZE, 0));
        }

        TreeSet<Long> marked() {
            TreeSet<Long> pages = new TreeSet<>();
            for (long page = 0; page < view.pages(); page++) {
                if (view.isMarked(page * PAGE)) {
                    pages.add(page);
                }
            }
            return pages;
        }

        @Override
        public void close() {
            view.close();
            fd.close();
        }
    }

    private static void addPages(TreeSet<Long> pages, long gpa, long length) {
        for (long page = gpa / PAGE; page <= (gpa + length - 1) / PAGE; page++) {
            pages.add(page);
        }
    }

    private static VringAddress logged(FrontendQueue queue, int index) {
        VringAddress plain = queue.vringAddress(index);
        return new VringAddress(index, VringAddress.F_LOG, plain.desc(), plain.used(), plain.avail(),
                queue.config().rings().deviceArea());
    }

    /** QEMU's vhost_dev_set_log(true) after vhost_dev_log_resize: the log, LOG_ALL, then each ring's F_LOG. */
    private static void startLogging(EchoDriver driver, FrontendLog log) throws Exception {
        VhostUserFrontend frontend = driver.frontend();
        frontend.setLogBase(log.fd(), LOG_SIZE, 0);
        frontend.setFeatures(driver.features() | Feature.VHOST_LOG_ALL.mask());
        frontend.setVringAddr(logged(driver.rx, EchoDevice.RX));
        frontend.setVringAddr(logged(driver.tx, EchoDevice.TX));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"SPLIT", "PACKED"})
    void whileLoggingEveryPageTheBackEndWritesIsMarkedAndNoOther(String layout) throws Exception {
        long features = Features.of(Feature.VERSION_1, Feature.RING_EVENT_IDX)
                | (QueueLayout.valueOf(layout) == QueueLayout.PACKED ? Feature.RING_PACKED.mask() : 0);
        try (EchoDriver driver = EchoDriver.create("dirty-log-echo", features);
                FrontendLog log = FrontendLog.create("dirty-log")) {
            VhostUserFrontend frontend = driver.connect(backend.socket, 2);
            assertTrue(Feature.VHOST_LOG_ALL.in(frontend.getFeatures()), "VHOST_F_LOG_ALL offered");
            assertTrue(ProtocolFeature.LOG_SHMFD.in(frontend.getProtocolFeatures()), "LOG_SHMFD offered");
            driver.roundTrip(8);
            driver.clearEchoes();

            startLogging(driver, log);
            assertTrue(log.marked().isEmpty(), "nothing is written before frames move: " + log.marked());
            for (int round = 0; round < 10; round++) {
                driver.roundTrip(1 + round * 3);
            }

            TreeSet<Long> echoPages = new TreeSet<>();
            for (long[] echo : driver.clearEchoes()) {
                addPages(echoPages, echo[0], echo[1]);
            }
            RingAddresses rx = driver.rx.config().rings();
            RingAddresses tx = driver.tx.config().rings();
            QueueLayout queueLayout = driver.rx.config().layout();
            int size = driver.rx.config().size();
            TreeSet<Long> required = new TreeSet<>(echoPages);
            // Split: the RX used ring's idx; packed: the RX descriptors written back.
            addPages(required, queueLayout == QueueLayout.SPLIT ? rx.deviceArea() : rx.descArea(), 1);
            TreeSet<Long> allowed = new TreeSet<>(echoPages);
            for (RingAddresses rings : List.of(rx, tx)) {
                if (queueLayout == QueueLayout.PACKED) {
                    addPages(allowed, rings.descArea(), queueLayout.descAreaSize(size));
                }
                addPages(allowed, rings.deviceArea(), queueLayout.deviceAreaSize(size));
            }
            TreeSet<Long> marked = log.marked();
            assertTrue(marked.containsAll(required), "every echo's pages and the RX ring's are marked: missing "
                    + missing(required, marked));
            assertTrue(allowed.containsAll(marked), "nothing else is marked (TX buffers are only read): extra "
                    + missing(marked, allowed));
        }
    }

    private static TreeSet<Long> missing(TreeSet<Long> wanted, TreeSet<Long> present) {
        TreeSet<Long> missing = new TreeSet<>(wanted);
        missing.removeAll(present);
        return missing;
    }

    @Test
    void aNewLogReplacesTheOldOneAndLoggingStopsWithLogAll() throws Exception {
        long features = Features.of(Feature.VERSION_1, Feature.RING_EVENT_IDX);
        try (EchoDriver driver = EchoDriver.create("dirty-log-replace", features);
                FrontendLog first = FrontendLog.create("dirty-log-1");
                FrontendLog second = FrontendLog.create("dirty-log-2");
                FrontendLog third = FrontendLog.create("dirty-log-3")) {
            VhostUserFrontend frontend = driver.connect(backend.socket, 1);
            startLogging(driver, first);
            driver.roundTrip(16);
            assertFalse(first.marked().isEmpty());

            // QEMU resizes the log while it runs: a new SET_LOG_BASE, the rings going on.
            TreeSet<Long> firstBefore = first.marked();
            frontend.setLogBase(second.fd(), LOG_SIZE, 0);
            driver.roundTrip(16);
            assertEquals(firstBefore, first.marked(), "the replaced log gets no more marks");
            assertFalse(second.marked().isEmpty(), "the new one gets them");

            // The migration over: LOG_ALL off, F_LOG cleared; a log set now is not marked.
            frontend.setFeatures(driver.features());
            frontend.setVringAddr(driver.rx.vringAddress(EchoDevice.RX));
            frontend.setVringAddr(driver.tx.vringAddress(EchoDevice.TX));
            frontend.setLogBase(third.fd(), LOG_SIZE, 0);
            driver.roundTrip(16);
            assertTrue(third.marked().isEmpty(), "logging is off: " + third.marked());
            assertEquals(3 * 16, backend.device.echoed(), "every frame still echoed");
        }
    }

    @Test
    void aRunningRingMayChangeItsLogFlagButNotMoveAndNothingElseMayChange() throws Exception {
        long features = Features.of(Feature.VERSION_1);
        try (EchoDriver driver = EchoDriver.create("dirty-log-refuse", features);
                FrontendLog log = FrontendLog.create("dirty-log-refused")) {
            VhostUserFrontend frontend = driver.connect(backend.socket, 1);
            VringAddress plain = driver.rx.vringAddress(EchoDevice.RX);
            VringAddress moved = new VringAddress(EchoDevice.RX, VringAddress.F_LOG, plain.desc() + 4096, plain.used(),
                    plain.avail(), 0);
            assertThrows(VhostUserException.class, () -> frontend.setVringAddr(moved));
            VringAddress unknownFlag = new VringAddress(EchoDevice.RX, 2, plain.desc(), plain.used(), plain.avail(), 0);
            assertThrows(VhostUserException.class, () -> frontend.setVringAddr(unknownFlag));
            assertThrows(VhostUserException.class,
                    () -> frontend.setFeatures(driver.features() | Feature.RING_EVENT_IDX.mask()),
                    "a running ring's features change only in VHOST_F_LOG_ALL");
            startLogging(driver, log);
            driver.roundTrip(4);
            assertFalse(log.marked().isEmpty());
        }
    }
}
