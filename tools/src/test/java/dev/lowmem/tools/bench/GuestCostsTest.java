package dev.lowmem.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cost of a frame, from a real guest's console (guest-costs-console.log: iperf3 guest->host
 * through QEMU's TAP, 2 s) and the host's CPU read from a /proc made in a temporary directory.
 */
class GuestCostsTest {
    @TempDir
    Path proc;

    @Test
    void aFramesCostsAreTheGuestsCountsBetweenItsTwoLinesOverTheFramesTheWayTheDataWent() throws IOException {
        GuestCosts costs = GuestCosts.of(Fixtures.text("guest-costs-console.log"), GuestCosts.Way.TX,
                Map.of("qemu", 4.731));
        // before: interrupts=1 kicks=1 tx_packets=0 tx_bytes=0 cpu_busy=299
        // after:  interrupts=10523 kicks=5488 tx_packets=9461 tx_bytes=464357762 cpu_busy=612
        assertEquals(9461, costs.frames());
        assertEquals(5487.0 / 9461, costs.kicks(), 1e-9);
        assertEquals(10522.0 / 9461, costs.interrupts(), 1e-9);
        assertEquals(464357762 / 1024.0 / 9461, costs.kib(), 1e-9);
        assertEquals(313 * 10_000.0 / 9461, costs.guestCpuUs(), 1e-9);
        assertEquals(4.731e6 / 9461, costs.hostCpuUs().get("qemu"), 1e-9);
        assertEquals(List.of("kicks 0.5800", "interrupts 1.1121", "KiB 47.9309", "guest-cpu-us 330.8318",
                "qemu-cpu-us 500.0528", "host-cpu-us 500.0528"), costs.lines());
    }

    @Test
    void theOtherWayCountsTheFramesReceived() throws IOException {
        GuestCosts costs = GuestCosts.of(Fixtures.text("guest-costs-console.log"), GuestCosts.Way.RX, Map.of());
        assertEquals(8225 - 6, costs.frames());
    }

    @Test
    void aConsoleWithoutBothLinesIsNoResult() {
        String before = "GUEST-COSTS before interrupts=1 kicks=1 rx_packets=6 tx_packets=0 rx_bytes=496 tx_bytes=0"
                + " cpu_busy=299 cpu_total=299\n";
        assertThrows(IllegalArgumentException.class, () -> GuestCosts.of(before, GuestCosts.Way.TX, Map.of()));
        String noFrames = before + before.replace("before", "after");
        assertThrows(IllegalArgumentException.class, () -> GuestCosts.of(noFrames, GuestCosts.Way.TX, Map.of()));
    }

    @Test
    void aProcessesTicksAreItsUserAndSystemTimeEvenWhenItsNameHoldsParentheses() {
        // a stat line of proc(5)'s layout: utime 17 and stime 4 (fields 14 and 15)
        String stat = "4242 (qemu (x) 1) S 1 4242 4242 0 -1 4194304 101 0 0 0 17 4 0 0 20 0 1 0 5674709 3133440 380";
        assertEquals(21, ProcessCpu.ticksOfStat(stat));
    }

    @Test
    void theWindowReadsEachProcessWhenTheGuestsLinesArriveAndLeavesOutWhatItCannotFind() throws IOException {
        process(4242, "qemu-system-x86", "qemu-system-x86_64 -serial file:/tmp/run-7/console.log", 100);
        process(4243, "qemu-system-x86", "qemu-system-x86_64 -serial file:/tmp/run-8/console.log", 900);
        process(77, "java", "java -jar vhost-user-net.jar", 50);
        CpuWindow window = new CpuWindow(new ProcessCpu(proc), List.of(CpuWindow.Watched.parse("qemu=qemu-system:/tmp/run-7/"),
                CpuWindow.Watched.parse("backend=77"), CpuWindow.Watched.parse("server=99")));

        assertEquals(false, window.feed("GUEST-START\r\nGUEST-COSTS bef"));
        assertEquals(false, window.feed("ore interrupts=1\r\n"));
        process(4242, "qemu-system-x86", "qemu-system-x86_64 -serial file:/tmp/run-7/console.log", 571);
        process(77, "java", "java -jar vhost-user-net.jar", 83);
        assertTrue(window.feed("=== iperf3 end ===\nGUEST-COSTS after interrupts=9\n"));

        assertEquals(Map.of("qemu", 4.71, "backend", 0.33), rounded(window.seconds()));
    }

    @Test
    void aProcessFoundByItsCommandLineIsTheLowestPidOfThoseThatMatch() throws IOException {
        process(300, "qemu-system-x86", "qemu-system-x86_64 -serial file:/tmp/a.log", 1);
        process(200, "bash", "run-guest --log /tmp/a.log", 1);
        process(100, "qemu-system-x86", "qemu-system-x86_64 -serial file:/tmp/b.log", 1);
        assertEquals(OptionalLong.of(300), new ProcessCpu(proc).find("qemu-system", "/tmp/a.log"));
    }

    private static Map<String, Double> rounded(Map<String, Double> seconds) {
        return seconds.entrySet().stream().collect(java.util.stream.Collectors.toMap(Map.Entry::getKey,
                e -> Math.round(e.getValue() * 100) / 100.0));
    }

    /** /proc/PID with comm, cmdline (NUL-separated) and a stat line whose utime is {@code ticks}. */
    private void process(long pid, String comm, String cmdline, long ticks) throws IOException {
        Path dir = Files.createDirectories(proc.resolve(Long.toString(pid)));
        Files.writeString(dir.resolve("comm"), comm + "\n");
        Files.writeString(dir.resolve("cmdline"), cmdline.replace(' ', '\0') + "\0");
        Files.writeString(dir.resolve("stat"), pid + " (" + comm + ") S 1 1 1 0 -1 0 0 0 0 0 " + ticks + " 0 0 0 20 0 1 0 5 6 7");
    }
}
