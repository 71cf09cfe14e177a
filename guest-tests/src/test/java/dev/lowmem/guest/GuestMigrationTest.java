package dev.lowmem.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Live migration of a guest between two QEMUs, each on a backend of its own (sockets A and B, TAPs
 * lvg0 and lvg1 on one bridge in the host side's namespace, so the guest reaches the host from
 * either), while 64 MiB go each way with nc, sha256 and size checked on the destination, and every
 * page of guest RAM compared on both sides at the switchover. QEMU 7.2 under single-threaded TCG,
 * guest memory a shared memfd, {@code vectors=0}; guest RAM of a size that keeps QEMU 7.2's own
 * lost-store bug away ({@link #GUEST_RAM}). {@code -Dmigration.nic=tap} runs the same migration on
 * QEMU's own TAP netdev instead of our backends, the control. And the same guest on a backend that
 * does not offer dirty logging, which QEMU refuses to migrate.
 */
@Tag("guest")
@Tag("migration")
class GuestMigrationTest {
    /**
     * Guest RAM: 512 MiB and 64 KiB, deliberately not a multiple of 256 KiB. QEMU 7.2 syncs the
     * migration's dirty bitmap of a RAM block that is one 64-bit word at a time without resetting
     * TCG's TLB (fixed upstream in "system/physmem: Fix migration dirty bitmap coherency with TCG
     * memory access", 2024): vCPU stores through a TLB entry made before the sync then set no
     * dirty bit, and their pages reach the destination stale. A block of another length takes
     * the page-by-page path, which resets the TLB.
     */
    private static final String GUEST_RAM = "524352K";
    private static final long GUEST_RAM_BYTES = 524352L << 10;
    private static final int PAGE = 4096;
    private static final Duration SHORT = Duration.ofSeconds(30);
    private static final Duration MIGRATION = Duration.ofSeconds(180);
    private static final List<String> TCG_SINGLE = List.of("--accel", "tcg,thread=single");

    private static void report(String what, String figures) {
        GuestReport.record(GuestMigrationTest.class, what, figures);
    }

    @Test
    void aGuestMigratesUnderTrafficBothWaysWithEveryByteIntact() throws Exception {
        Path logs = Files.createDirectories(GuestLogs.dirFor(GuestMigrationTest.class));
        Path work = Files.createTempDirectory("lowmem-vnet-migration");
        String namespace = "lvm-" + ProcessHandle.current().pid();
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            HostSide host = HostSide.createBridged(namespace, List.of("lvg0", "lvg1"));
            opened.add(host);
            Path socketA = work.resolve("a.sock");
            Path socketB = work.resolve("b.sock");
            boolean control = "tap".equals(System.getProperty("migration.nic"));
            Backend backendA = null;
            Backend backendB = null;
            if (!control) {
                backendA = Backend.start(host, "lvg0", socketA, List.of("-Dlowmem.vhost.trace=true"), logs.resolve("backend-a.log"));
                opened.add(backendA);
                backendB = Backend.start(host, "lvg1", socketB, List.of("-Dlowmem.vhost.trace=true"), logs.resolve("backend-b.log"));
                opened.add(backendB);
            }

            Path qmpA = work.resolve("qmp-a.sock");
            Path qmpB = work.resolve("qmp-b.sock");
            Path migration = work.resolve("migration.sock");
            Guest source;
            Guest destination;
            List<String> incoming = new ArrayList<>(options(qmpB));
            incoming.addAll(List.of("--incoming", "unix:" + migration));
            // As libvirt does: the destination waits with its vCPUs stopped until the migration
            // has completed, and runs on QMP's cont (see the class comment for why).
            incoming.add("--paused");
            if (control) {
                List<String> optionsA = new ArrayList<>(options(qmpA));
                optionsA.addAll(List.of("--tap", "lvg0"));
                source = Guest.start(host.inside(), config(null, logs.resolve("console-a.log")), optionsA, true);
                opened.add(source);
                incoming.addAll(List.of("--tap", "lvg1"));
                destination = Guest.start(host.inside(), config(null, logs.resolve("console-b.log")), incoming, false);
            } else {
                source = Guest.boot(config(socketA, logs.resolve("console-a.log")), options(qmpA));
                opened.add(source);
                report("negotiated (source)", backendA.awaitNegotiated(SHORT));
                destination = Guest.incoming(config(socketB, logs.resolve("console-b.log")), incoming);
            }
            opened.add(destination);
            awaitFile(migration);

            // Both transfers start on the source, paced to last several seconds.
            PacedTransfers transfers = PacedTransfers.start(host, source, work, logs, PacedTransfers.BYTES);
            Thread.sleep(1500);
            long beforeMigration = transfers.receivedFromGuest();
            assertTrue(beforeMigration > 0, "guest -> host bytes flow before the migration");

            try (Qmp qmp = Qmp.connect(qmpA, SHORT)) {
                qmp.execute("{\"execute\":\"migrate-set-parameters\",\"arguments\":{\"max-bandwidth\":4294967296}}");
                long started = System.nanoTime();
                qmp.execute("{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"unix:" + migration + "\"}}");
                String status;
                String answer;
                do {
                    Thread.sleep(100);
                    answer = qmp.execute("{\"execute\":\"query-migrate\"}");
                    status = Qmp.field(answer, "status");
                    if (System.nanoTime() - started > MIGRATION.toNanos()) {
                        throw new IOException("the migration did not end within " + MIGRATION.toSeconds() + " s: " + answer);
                    }
                } while (!"completed".equals(status) && !"failed".equals(status));
                boolean toGuestUnfinished = transfers.hostSending();
                long atSwitchOver = transfers.receivedFromGuest();
                assertEquals("completed", status, answer);
                report("migration", String.format("total %s ms, downtime %s ms, setup %s ms, ram %s B at %s Mbit/s, %s dirty syncs",
                        Qmp.field(answer, "total-time"), Qmp.field(answer, "downtime"), Qmp.field(answer, "setup-time"),
                        Qmp.field(answer, "transferred"), Qmp.field(answer, "mbps"), Qmp.field(answer, "dirty-sync-count")));
                report("guest -> host at the migration", beforeMigration + " B before it, " + atSwitchOver + " B when it completed, of "
                        + PacedTransfers.BYTES);
                assertTrue(toGuestUnfinished, "host -> guest still sending when the migration completed");
                assertTrue(atSwitchOver < PacedTransfers.BYTES, "guest -> host still sending when the migration completed");
                // Both sides stand still now: the source after the migration, the destination until
                // cont. Every page of guest RAM must be the same on both, or a write went unlogged.
                try (Qmp qmpDest = Qmp.connect(qmpB, SHORT)) {
                    awaitPaused(qmpDest);
                    MemoryComparison memory = compareMemory(qmp, qmpDest, work);
                    report("guest RAM at the switchover", memory.summary());
                    assertEquals(0, memory.differing(), memory::summary);
                    qmpDest.execute("{\"execute\":\"cont\"}");
                }
            }
            source.stop();

            PacedTransfers.Result ended = transfers.finish(destination, logs.resolve("console-b.log"));
            report("transfer across it", ended.toHost().summary());
            report("transfer across it", ended.toGuest().summary());
            assertEquals("0", ended.guestNcStatus(), "the guest's nc ended well");
            assertTrue(ended.toHost().intact(), ended.toHost()::summary);
            assertTrue(ended.toGuest().intact(), ended.toGuest()::summary);

            PingResult ping = GuestTraffic.ping(destination, 3, HostSide.HOST_ADDRESS);
            report("ping after migration", ping.summary());
            assertEquals(3, ping.received(), ping.summary());
            if (backendB != null) {
            BackendStats after = backendB.stats();
            report("backend B after", "rx " + after.get("rx_frames") + " frames, tx " + after.get("tx_frames")
                    + " frames, drops " + after.drops() + ", faults " + after.faults());
            // QEMU on the destination asks the back-end to announce the guest (SEND_RARP, as the
            // guest lacks VIRTIO_NET_F_GUEST_ANNOUNCE), once per round of its announce timer.
            report("announced after migration", after.get("rarp_sent") + " RARP frames written to lvg1 by backend B, "
                    + backendA.stats().get("rarp_sent") + " by backend A");
            assertTrue(after.get("rarp_sent") >= 1, "backend B announced the guest's MAC on its TAP after the migration");
            }
        } finally {
            for (int i = opened.size() - 1; i >= 0; i--) {
                opened.get(i).close();
            }
            new ScratchDirectory(work).close();
        }
    }

    @Test
    void withoutDirtyLoggingQemuRefusesToMigrate() throws Exception {
        Path logs = Files.createDirectories(GuestLogs.dirFor(GuestMigrationTest.class, "unlogged"));
        Path work = Files.createTempDirectory("lowmem-vnet-migration");
        String namespace = "lvu-" + ProcessHandle.current().pid();
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            HostSide host = HostSide.createBridged(namespace, List.of("lvg0"));
            opened.add(host);
            Path socket = work.resolve("a.sock");
            Backend backend = Backend.start(host, "lvg0", socket, List.of("-Dlowmem.vhost.dirtyLog=false"),
                    logs.resolve("backend.log"));
            opened.add(backend);
            Path qmpSocket = work.resolve("qmp.sock");
            Guest guest = Guest.boot(config(socket, logs.resolve("console.log")), options(qmpSocket));
            opened.add(guest);
            try (Qmp qmp = Qmp.connect(qmpSocket, SHORT)) {
                Qmp.QmpError refused = assertThrows(Qmp.QmpError.class, () -> qmp.execute(
                        "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"unix:" + work.resolve("nowhere.sock") + "\"}}"));
                report("migrate without dirty logging", refused.getMessage());
                // QEMU 7.2 names the first of the two it misses: LOG_SHMFD (a log it can share), then VHOST_F_LOG_ALL.
                assertTrue(refused.getMessage().matches(".*Migration disabled: vhost.* lacks .*LOG.*"), refused.getMessage());
            }
            assertEquals(3, GuestTraffic.ping(guest, 3, HostSide.HOST_ADDRESS).received(), "the guest runs on");
        } finally {
            for (int i = opened.size() - 1; i >= 0; i--) {
                opened.get(i).close();
            }
            new ScratchDirectory(work).close();
        }
    }

    /** Waits for the destination to have loaded the whole migration and to stand paused (-S). */
    private static void awaitPaused(Qmp destination) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + SHORT.toNanos();
        String status;
        while (!"paused".equals(status = Qmp.field(destination.execute("{\"execute\":\"query-status\"}"), "status"))) {
            if (System.nanoTime() > deadline) {
                throw new IOException("the destination is " + status + ", not paused, " + SHORT.toSeconds() + " s after the migration");
            }
            Thread.sleep(50);
        }
    }

    /** How many 4 KiB pages of guest RAM differ between the two QEMUs. */
    record MemoryComparison(long pages, long differing, String firstDifferences) {
        String summary() {
            return differing + " of " + pages + " pages differ" + (differing == 0 ? "" : ": " + firstDifferences);
        }
    }

    /** Saves guest RAM of both (QMP pmemsave, guest-physical from 0) and compares it page by page. */
    private static MemoryComparison compareMemory(Qmp source, Qmp destination, Path work) throws IOException {
        Path sourceDump = work.resolve("source.mem");
        Path destinationDump = work.resolve("destination.mem");
        String save = "{\"execute\":\"pmemsave\",\"arguments\":{\"val\":0,\"size\":" + GUEST_RAM_BYTES + ",\"filename\":\"%s\"}}";
        source.execute(String.format(save, sourceDump));
        destination.execute(String.format(save, destinationDump));
        long pages = 0;
        long differing = 0;
        StringBuilder first = new StringBuilder();
        byte[] a = new byte[PAGE];
        byte[] b = new byte[PAGE];
        try (InputStream left = new java.io.BufferedInputStream(Files.newInputStream(sourceDump), 1 << 20);
                InputStream right = new java.io.BufferedInputStream(Files.newInputStream(destinationDump), 1 << 20)) {
            while (left.readNBytes(a, 0, PAGE) == PAGE && right.readNBytes(b, 0, PAGE) == PAGE) {
                if (!java.util.Arrays.equals(a, b)) {
                    if (differing < 8) {
                        first.append(first.isEmpty() ? "" : ", ").append("0x").append(Long.toHexString(pages * PAGE));
                    }
                    differing++;
                }
                pages++;
            }
        } finally {
            Files.deleteIfExists(sourceDump);
            Files.deleteIfExists(destinationDump);
        }
        return new MemoryComparison(pages, differing, first.toString());
    }

    /** Waits for the destination QEMU to listen for the migration. */
    private static void awaitFile(Path path) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + SHORT.toNanos();
        while (!Files.exists(path)) {
            if (System.nanoTime() > deadline) {
                throw new IOException("the destination QEMU made no " + path + " within " + SHORT.toSeconds() + " s");
            }
            Thread.sleep(50);
        }
    }

    private static Guest.Config config(Path socket, Path console) {
        return new Guest.Config(socket, "", 0, GUEST_RAM, 1, console, HostSide.GUEST_ADDRESS, Guest.FIRST_MAC);
    }

    private static List<String> options(Path qmp) {
        List<String> options = new ArrayList<>(TCG_SINGLE);
        options.addAll(List.of("--qmp", qmp.toString()));
        return options;
    }
}
