package dev.lowmem.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Memory hot-plug under traffic: a guest of 512 MiB with room for more ({@code -m
 * 512M,slots=4,maxmem=2G}) gets a 128 MiB DIMM from QMP ({@code object-add}
 * memory-backend-memfd with share=on, then {@code device_add} pc-dimm) while 64 MiB go each way
 * with nc. QEMU sends the back-end the new region (ADD_MEM_REG, with CONFIGURE_MEM_SLOTS), the
 * guest onlines the memory itself ({@code memhp_default_state=online}), and both transfers end
 * intact (size and sha256). The DIMM lies above 4 GiB, the guest's only memory there: the kernel's
 * Normal zone is the DIMM, and the page allocator serves the Normal zone first, so the frames the
 * guest receives after the plug go to buffers in it, which the zone's free pages show.
 */
@Tag("guest")
@Tag("hotplug")
class GuestMemoryHotplugTest {
    private static final long DIMM_BYTES = 128L << 20;
    private static final Duration SHORT = Duration.ofSeconds(30);
    private static final Pattern TABLE = Pattern.compile("memory table of (\\d+) regions");
    /** The Normal zone's managed and free pages; "0 0" while the guest has none. */
    private static final String NORMAL_ZONE = "awk '/^Node/ {z=$4} z==\"Normal\" && $1==\"pages\" && $2==\"free\" {f=$3}"
            + " z==\"Normal\" && $1==\"managed\" {m=$2} END {print m+0, f+0}' /proc/zoneinfo";

    /**
     * Offlines the DIMM's memory blocks, which start at 4 GiB (where x86 device memory starts), and
     * prints their states: the kernel migrates whatever it put there, which it can in ZONE_MOVABLE.
     */
    private static final String OFFLINE_DIMM = "cd /sys/devices/system/memory && bs=$((0x$(cat block_size_bytes)))"
            + " && first=$((0x100000000 / bs)) && n=$((" + DIMM_BYTES + " / bs)) && i=0"
            + " && while [ $i -lt $n ]; do echo offline > memory$((first + i))/state || exit 1; i=$((i + 1)); done"
            + " && echo \"$n blocks of $bs bytes from memory$first: $(cat memory$first/state)\"";

    private static void report(String what, String figures) {
        GuestReport.record(GuestMemoryHotplugTest.class, what, figures);
    }

    @Test
    void aDimmPluggedUnderTrafficReachesTheBackendAndCarriesFrames() throws Exception {
        Path logs = Files.createDirectories(GuestLogs.dirFor(GuestMemoryHotplugTest.class));
        Path work = Files.createTempDirectory("lowmem-vnet-hotplug");
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            Rig rig = Rig.start("lvh-", logs, work, opened, "--append", "memhp_default_state=online");
            HostSide host = rig.host();
            Backend backend = rig.backend();
            Path backendLog = rig.backendLog();
            Path qmpSocket = rig.qmpSocket();
            Guest guest = rig.guest();
            report("negotiated", backend.awaitNegotiated(SHORT));
            long memTotalBefore = memTotalKib(guest);
            int regionsBefore = lastTableSize(backendLog);
            report("before the plug", "MemTotal " + memTotalBefore + " KiB, Normal zone (managed, free pages) "
                    + guest.check(SHORT, NORMAL_ZONE).strip() + ", back-end table of " + regionsBefore + " regions");

            PacedTransfers transfers = PacedTransfers.start(host, guest, work, logs, PacedTransfers.BYTES ^ 0x5EED);
            Thread.sleep(1500);
            assertTrue(transfers.receivedFromGuest() > 0, "guest -> host bytes flow before the plug");

            try (Qmp qmp = Qmp.connect(qmpSocket, SHORT)) {
                qmp.execute("{\"execute\":\"object-add\",\"arguments\":{\"qom-type\":\"memory-backend-memfd\",\"id\":\"m1\","
                        + "\"size\":" + DIMM_BYTES + ",\"share\":true}}");
                qmp.execute("{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"pc-dimm\",\"id\":\"d1\",\"memdev\":\"m1\"}}");
            }
            long plugged = System.nanoTime();
            int regionsAfter = awaitTableLargerThan(backendLog, regionsBefore);
            boolean stillSending = transfers.hostSending();
            long onlineKib = awaitMemTotalAbove(guest, memTotalBefore);
            report("the plug", "back-end table " + regionsBefore + " -> " + regionsAfter + " regions (ADD_MEM_REG), guest MemTotal "
                    + memTotalBefore + " -> " + onlineKib + " KiB, online "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - plugged) + " ms after device_add");
            assertTrue(stillSending, "host -> guest still sending when the back-end had the new region");
            assertTrue(onlineKib - memTotalBefore >= (DIMM_BYTES >> 10) * 9 / 10, "the guest onlined the DIMM's memory");
            String zoneDuring = guest.check(SHORT, NORMAL_ZONE).strip();

            PacedTransfers.Result ended = transfers.finish(guest, logs.resolve("console.log"));
            String zoneAfter = guest.check(SHORT, NORMAL_ZONE).strip();
            report("Normal zone (the DIMM): managed, free pages", "just after online " + zoneDuring + ", after the transfers " + zoneAfter);
            report("transfer across the plug", ended.toHost().summary());
            report("transfer across the plug", ended.toGuest().summary());
            assertEquals("0", ended.guestNcStatus(), "the guest's nc ended well");
            assertTrue(ended.toHost().intact(), ended.toHost()::summary);
            assertTrue(ended.toGuest().intact(), ended.toGuest()::summary);
            long normalManaged = Long.parseLong(zoneAfter.split(" ")[0]);
            long normalFree = Long.parseLong(zoneAfter.split(" ")[1]);
            assertTrue(normalManaged > 0 && normalFree < normalManaged, "the guest allocates from the DIMM: " + zoneAfter);

            checkNetworkRunsOn(guest, backend, "after the plug");
        } finally {
            closeAll(opened, work);
        }
    }

    /**
     * More regions than the 32 this back-end took before: 40 DIMMs of 16 MiB plugged one after
     * another, each an ADD_MEM_REG, the back-end's table 41 regions in the end (QEMU 7.2 refuses a
     * DIMM once a vhost back-end has no free memory slot: "a used vhost backend has no free memory
     * slots left", which 32 would have meant at the 32nd). The guest does not online them (x86
     * Linux adds memory in 128 MiB blocks), and its network runs on through every change of the
     * table: ping, and 16 MiB each way intact.
     */
    @Test
    void fortyDimmsMakeFortyOneRegionsAndTheNetworkRunsOn() throws Exception {
        int dimms = 40;
        Path logs = Files.createDirectories(GuestLogs.dirFor(GuestMemoryHotplugTest.class, "many"));
        Path work = Files.createTempDirectory("lowmem-vnet-hotplug");
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            Rig rig = Rig.start("lvd-", logs, work, opened, "--mem-slots", Integer.toString(dimms));
            HostSide host = rig.host();
            Backend backend = rig.backend();
            Path backendLog = rig.backendLog();
            Path qmpSocket = rig.qmpSocket();
            Guest guest = rig.guest();
            backend.awaitNegotiated(SHORT);
            int regionsBefore = lastTableSize(backendLog);
            long started = System.nanoTime();
            try (Qmp qmp = Qmp.connect(qmpSocket, SHORT)) {
                for (int i = 0; i < dimms; i++) {
                    qmp.execute("{\"execute\":\"object-add\",\"arguments\":{\"qom-type\":\"memory-backend-memfd\",\"id\":\"s" + i
                            + "\",\"size\":" + (16L << 20) + ",\"share\":true}}");
                    qmp.execute("{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"pc-dimm\",\"id\":\"ds" + i
                            + "\",\"memdev\":\"s" + i + "\"}}");
                }
            }
            int regionsAfter = awaitTableLargerThan(backendLog, regionsBefore + dimms - 1);
            report("many DIMMs", dimms + " DIMMs of 16 MiB plugged in "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) + " ms, back-end table " + regionsBefore
                    + " -> " + regionsAfter + " regions");
            assertEquals(regionsBefore + dimms, regionsAfter);

            GuestTraffic traffic = new GuestTraffic(host, guest, work, logs);
            PingResult ping = traffic.pingFromGuest(3);
            report("many DIMMs: ping", ping.summary());
            assertEquals(3, ping.received(), ping.summary());
            for (GuestTraffic.Transfer transfer : List.of(traffic.sendToGuest(16L << 20), traffic.sendToHost(16L << 20))) {
                report("many DIMMs: transfer", transfer.summary());
                assertTrue(transfer.intact(), transfer::summary);
            }
            assertEquals(0, backend.stats().faults(), "no queue faulted");
        } finally {
            closeAll(opened, work);
        }
    }

    /**
     * Unplug under traffic: a 128 MiB DIMM onlined into ZONE_MOVABLE
     * ({@code memhp_default_state=online_movable}, so that the kernel keeps its own allocations out
     * of it and can give it back), offlined by the guest, then {@code device_del} while 64 MiB go
     * each way. The guest's ACPI handler ejects it, QEMU removes the region and sends the back-end
     * REM_MEM_REG while frames flow: its table goes from 2 regions back to 1, the rings move onto
     * the smaller table, and both transfers end intact.
     */
    @Test
    void aDimmTheGuestOfflinedIsUnpluggedUnderTrafficAndTheBackendDropsItsRegion() throws Exception {
        Path logs = Files.createDirectories(GuestLogs.dirFor(GuestMemoryHotplugTest.class, "unplug"));
        Path work = Files.createTempDirectory("lowmem-vnet-hotplug");
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            Rig rig = Rig.start("lvu-", logs, work, opened, "--append", "memhp_default_state=online_movable");
            Guest guest = rig.guest();
            rig.backend().awaitNegotiated(SHORT);
            long memTotalBefore = memTotalKib(guest);
            int regionsBefore = lastTableSize(rig.backendLog());
            try (Qmp qmp = Qmp.connect(rig.qmpSocket(), SHORT)) {
                qmp.execute("{\"execute\":\"object-add\",\"arguments\":{\"qom-type\":\"memory-backend-memfd\",\"id\":\"m1\","
                        + "\"size\":" + DIMM_BYTES + ",\"share\":true}}");
                qmp.execute("{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"pc-dimm\",\"id\":\"d1\",\"memdev\":\"m1\"}}");
                int regionsPlugged = awaitTableLargerThan(rig.backendLog(), regionsBefore);
                long onlineKib = awaitMemTotalAbove(guest, memTotalBefore);
                String offlined = guest.check(SHORT, OFFLINE_DIMM).strip();
                report("unplug: the plug and the guest's offline", "back-end table " + regionsBefore + " -> " + regionsPlugged
                        + " regions, MemTotal " + memTotalBefore + " -> " + onlineKib + " KiB, then " + offlined);

                PacedTransfers transfers = PacedTransfers.start(rig.host(), guest, work, logs, PacedTransfers.BYTES ^ 0xD1);
                Thread.sleep(1500);
                assertTrue(transfers.receivedFromGuest() > 0, "guest -> host bytes flow before the unplug");
                qmp.execute("{\"execute\":\"device_del\",\"arguments\":{\"id\":\"d1\"}}");
                long unplugged = System.nanoTime();
                int regionsAfter = awaitTableSmallerThan(rig.backendLog(), regionsPlugged);
                boolean stillSending = transfers.hostSending();
                report("the unplug", "back-end table " + regionsPlugged + " -> " + regionsAfter + " regions (REM_MEM_REG) "
                        + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - unplugged) + " ms after device_del, guest MemTotal "
                        + memTotalKib(guest) + " KiB");
                assertEquals(regionsBefore, regionsAfter, "the DIMM's region left the back-end's table");
                assertTrue(stillSending, "host -> guest still sending when the back-end dropped the region");

                PacedTransfers.Result ended = transfers.finish(guest, logs.resolve("console.log"));
                report("transfer across the unplug", ended.toHost().summary());
                report("transfer across the unplug", ended.toGuest().summary());
                assertEquals("0", ended.guestNcStatus(), "the guest's nc ended well");
                assertTrue(ended.toHost().intact(), ended.toHost()::summary);
                assertTrue(ended.toGuest().intact(), ended.toGuest()::summary);
            }
            checkNetworkRunsOn(guest, rig.backend(), "after the unplug");
        } finally {
            closeAll(opened, work);
        }
    }

    /**
     * The host side, our back-end (its requests traced in its log) and a 512 MiB guest with room
     * for DIMMs and a QMP socket; each is added to {@code opened} as it starts, for the caller to
     * close in reverse.
     */
    private record Rig(HostSide host, Backend backend, Path backendLog, Path qmpSocket, Guest guest) {
        static Rig start(String namespacePrefix, Path logs, Path work, List<AutoCloseable> opened, String... runGuestOptions)
                throws IOException, InterruptedException {
            HostSide host = HostSide.createBridged(namespacePrefix + ProcessHandle.current().pid(), List.of("lvg0"));
            opened.add(host);
            Path socket = work.resolve("vnet.sock");
            Path backendLog = logs.resolve("backend.log");
            Backend backend = Backend.start(host, "lvg0", socket, List.of("-Dlowmem.vhost.trace=true"), backendLog);
            opened.add(backend);
            Path qmpSocket = work.resolve("qmp.sock");
            List<String> options = new ArrayList<>(List.of("--qmp", qmpSocket.toString(), "--maxmem", "2G"));
            options.addAll(List.of(runGuestOptions));
            Guest guest = Guest.boot(new Guest.Config(socket, "", 0, "512M", 1, logs.resolve("console.log"),
                    HostSide.GUEST_ADDRESS, Guest.FIRST_MAC), options);
            opened.add(guest);
            return new Rig(host, backend, backendLog, qmpSocket, guest);
        }
    }

    /** Three pings from the guest answered, and no queue of the back-end faulted. */
    private static void checkNetworkRunsOn(Guest guest, Backend backend, String when) throws Exception {
        PingResult ping = GuestTraffic.ping(guest, 3, HostSide.HOST_ADDRESS);
        report("ping " + when, ping.summary());
        assertEquals(3, ping.received(), ping.summary());
        BackendStats stats = backend.stats();
        report("backend " + when, "rx " + stats.get("rx_frames") + " frames, tx " + stats.get("tx_frames")
                + " frames, drops " + stats.drops() + ", faults " + stats.faults());
        assertEquals(0, stats.faults(), "no queue faulted");
    }

    /** Closes what a test opened, in reverse, then its work directory. */
    private static void closeAll(List<AutoCloseable> opened, Path work) throws Exception {
        for (int i = opened.size() - 1; i >= 0; i--) {
            opened.get(i).close();
        }
        new ScratchDirectory(work).close();
    }

    private static long memTotalKib(Guest guest) throws IOException, InterruptedException {
        return Long.parseLong(guest.check(SHORT, "awk '/^MemTotal/ {print $2}' /proc/meminfo").strip());
    }

    private static long awaitMemTotalAbove(Guest guest, long kib) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + SHORT.toNanos();
        long now;
        while ((now = memTotalKib(guest)) <= kib) {
            if (System.nanoTime() > deadline) {
                throw new IOException("the guest's MemTotal is still " + now + " KiB " + SHORT.toSeconds() + " s after device_add");
            }
            Thread.sleep(200);
        }
        return now;
    }

    /** The region count of the back-end's last "memory table of N regions" log line; 0 before any. */
    private static int lastTableSize(Path backendLog) throws IOException {
        Matcher table = TABLE.matcher(Files.readString(backendLog, java.nio.charset.StandardCharsets.ISO_8859_1));
        int last = 0;
        while (table.find()) {
            last = Integer.parseInt(table.group(1));
        }
        return last;
    }

    private static int awaitTableSmallerThan(Path backendLog, int regions) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + SHORT.toNanos();
        int now;
        while ((now = lastTableSize(backendLog)) >= regions) {
            if (System.nanoTime() > deadline) {
                throw new IOException("the back-end's table still has " + now + " regions " + SHORT.toSeconds() + " s after device_del");
            }
            Thread.sleep(100);
        }
        return now;
    }

    private static int awaitTableLargerThan(Path backendLog, int regions) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + SHORT.toNanos();
        int now;
        while ((now = lastTableSize(backendLog)) <= regions) {
            if (System.nanoTime() > deadline) {
                throw new IOException("the back-end's table still has " + now + " regions " + SHORT.toSeconds() + " s after device_add");
            }
            Thread.sleep(100);
        }
        return now;
    }
}
