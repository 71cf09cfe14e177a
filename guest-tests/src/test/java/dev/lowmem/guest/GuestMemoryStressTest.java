package dev.lowmem.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.guest.GuestTraffic.Direction;
import dev.lowmem.tools.bench.Iperf3Result;
import java.util.EnumMap;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A guest short of memory on our backend: 128 MiB (a guest with less hardly boots), iperf3 each way
 * unstressed, then again while the guest's memory hog (guest-tests/guest/memhog.c) holds free memory
 * just above the low watermark and churns 40 MB/s on top of it. What must hold: nothing was
 * OOM-killed and the hog ran to the end, both directions moved data, the backend still runs and
 * still moves frames, and every frame it took from the TAP and did not deliver is counted as
 * dropped or held. The throughput a second, the stall seconds, the hog's figures and the guest's,
 * the backend's and the TAP's counters are reported, not asserted
 * (tools/scripts/stress-guest-memory runs the same against QEMU's TAP and DPDK).
 */
@Tag("guest")
@Tag("stress")
class GuestMemoryStressTest {
    private static final String MEMORY = "128M";
    private static final int UNSTRESSED_SECONDS = 5;
    private static final int STRESSED_SECONDS = 10;
    private static final double STALL_SHARE = 0.10;
    private static final int PINGS = 3;
    // The counters reported beside the summary: those of holding and dropping frames, and the pool's.
    private static final Pattern HOLDS_AND_DROPS = Pattern.compile("^(rx_starved|rx_held|rx_backlog|pool_)|_drop_");

    @Test
    void trafficFlowsBothWaysWhileAHogChurnsTheGuestsLastMemory() throws Exception {
        GuestRig.Options options = GuestRig.Options.defaults(GuestLogs.dirFor(GuestMemoryStressTest.class)).withMemory(MEMORY);
        try (GuestRig rig = GuestRig.start(options, System.out::println)) {
            Map<Direction, Iperf3Run> unstressed = new EnumMap<>(Direction.class);
            for (Direction direction : Direction.values()) {
                unstressed.put(direction, rig.traffic().iperf3EachSecond(direction, UNSTRESSED_SECONDS, "unstressed-" + direction.word()));
            }

            MemoryHog hog = MemoryHog.start(rig.guest(), "");
            report("hog started", hog.start());
            GuestCounters guestBefore = GuestCounters.read(rig.guest());
            GuestRig.AtRest before = rig.countersAtRest();
            Map<Direction, Iperf3Run> stressed = new EnumMap<>(Direction.class);
            for (Direction direction : Direction.values()) {
                Iperf3Run run = rig.traffic().iperf3EachSecond(direction, STRESSED_SECONDS, "stressed-" + direction.word());
                hog.observe(run.output());
                stressed.put(direction, run);
            }
            GuestRig.AtRest after = rig.countersAtRest();
            GuestCounters guestGrown = GuestCounters.read(rig.guest()).since(guestBefore);
            boolean hogRanToTheEnd = hog.stop();
            BackendStats grown = after.backend().since(before.backend());
            long fromTap = after.tap("tx_packets") - before.tap("tx_packets");
            long toTap = after.tap("rx_packets") - before.tap("rx_packets");

            for (Direction direction : Direction.values()) {
                Iperf3Run calm = unstressed.get(direction);
                Iperf3Run run = stressed.get(direction);
                report("iperf3 " + direction + " unstressed", calm.summary().summary() + "; a second: " + calm.seconds());
                report("iperf3 " + direction + " stressed", run.summary().summary() + ", "
                        + run.secondsUnder(STALL_SHARE, calm.summary().megabitsPerSecond()) + " of "
                        + run.megabitsEachSecond().size() + " s stalled (< 10% of unstressed); a second: " + run.seconds());
            }
            report("hog", hog.summary());
            report("hog end", hog.end());
            report("guest kernel, stressed", guestGrown.summary());
            report("backend counters, stressed", grown.summary());
            report("backend holds and drops, stressed", grown.counters(key -> HOLDS_AND_DROPS.matcher(key).find()));
            report("TAP, stressed", String.format("the backend read %d frames and wrote %d, the TAP dropped %d for the guest,"
                    + " counted at rest: %b", fromTap, toTap, after.tap("tx_dropped") - before.tap("tx_dropped"), before.still() && after.still()));

            assertTrue(hogRanToTheEnd, () -> "the hog was not running any more: " + hog.end());
            assertEquals(0, guestGrown.get("oom_kill"), "OOM kills in the guest");
            for (Direction direction : Direction.values()) {
                Iperf3Result result = stressed.get(direction).summary();
                assertTrue(result.receivedBitsPerSecond() > 0, () -> direction + " stressed: " + result.summary());
            }
            assertTrue(rig.backend().isAlive(), "the backend runs");
            PingResult ping = rig.traffic().pingFromGuest(PINGS);
            report("ping guest -> host after", ping.summary());
            assertEquals(PINGS, ping.received(), "the backend still moves frames: " + ping.summary());

            assertTrue(before.still() && after.still(), "the counters were read while no frame moved");
            assertEquals(toTap, grown.get("tx_frames"), "the frames the backend wrote to the TAP are its tx_frames");
            long uncounted = after.uncounted(before);
            assertTrue(uncounted <= 0, () -> "of " + fromTap + " frames read from the TAP, " + uncounted
                    + " did not reach the guest and were neither counted dropped nor held: " + grown.summary());
        }
    }

    private static void report(String what, String figures) {
        GuestReport.record(GuestMemoryStressTest.class, what, figures);
    }
}
