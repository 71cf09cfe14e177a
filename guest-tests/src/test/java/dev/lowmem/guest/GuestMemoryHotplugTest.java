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

    private static void report(String what, String figures) {
        GuestReport.record(GuestMemoryHotplugTest.class, what, figures);
    }

    @Test
    void aDimmPluggedUnderTrafficReachesTheBackendAndCarriesFrames() throws Exception {
        Path logs = Files.createDirectories(GuestLogs.dirFor(GuestMemoryHotplugTest.class));
        Path work = Files.createTempDirectory("lowmem-vnet-hotplug");
        String namespace = "lvh-" + ProcessHandle.current().pid();
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            HostSide host = HostSide.createBridged(namespace, List.of("lvg0"));
            opened.add(host);
            Path socket = work.resolve("vnet.sock");
            Path backendLog = logs.resolve("backend.log");
            Backend backend = Backend.start(host, "lvg0", socket, List.of("-Dlowmem.vhost.trace=true"), backendLog);
            opened.add(backend);
            Path qmpSocket = work.resolve("qmp.sock");
            Guest guest = Guest.boot(new Guest.Config(socket, "", 0, "512M", 1, logs.resolve("console.log"),
                    HostSide.GUEST_ADDRESS, Guest.FIRST_MAC),
                    List.of("--qmp", qmpSocket.toString(), "--maxmem", "2G", "--append", "memhp_default_state=online"));
            opened.add(guest);
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

            PingResult ping = GuestTraffic.ping(guest, 3, HostSide.HOST_ADDRESS);
            report("ping after the plug", ping.summary());
            assertEquals(3, ping.received(), ping.summary());
            BackendStats stats = backend.stats();
            report("backend after", "rx " + stats.get("rx_frames") + " frames, tx " + stats.get("tx_frames")
                    + " frames, drops " + stats.drops() + ", faults " + stats.faults());
            assertEquals(0, stats.faults(), "no queue faulted");
        } finally {
            for (int i = opened.size() - 1; i >= 0; i--) {
                opened.get(i).close();
            }
            new ScratchDirectory(work).close();
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
        String namespace = "lvd-" + ProcessHandle.current().pid();
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            HostSide host = HostSide.createBridged(namespace, List.of("lvg0"));
            opened.add(host);
            Path socket = work.resolve("vnet.sock");
            Path backendLog = logs.resolve("backend.log");
            Backend backend = Backend.start(host, "lvg0", socket, List.of("-Dlowmem.vhost.trace=true"), backendLog);
            opened.add(backend);
            Path qmpSocket = work.resolve("qmp.sock");
            Guest guest = Guest.boot(new Guest.Config(socket, "", 0, "512M", 1, logs.resolve("console.log"),
                    HostSide.GUEST_ADDRESS, Guest.FIRST_MAC),
                    List.of("--qmp", qmpSocket.toString(), "--maxmem", "2G", "--mem-slots", Integer.toString(dimms)));
            opened.add(guest);
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
            for (int i = opened.size() - 1; i >= 0; i--) {
                opened.get(i).close();
            }
            new ScratchDirectory(work).close();
        }
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
