package dev.lowmem.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.guest.GuestTraffic.Direction;
import java.io.IOException;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The scenario the RX backlog exists for, in a real guest: the squeeze module
 * (guest-tests/guest-module/squeeze.c, {@link Squeeze}) takes the guest's free memory, atomic
 * reserves included, for 200 ms of every second, so virtio_net's atomic RX refill in NAPI fails, its
 * RX ring runs dry and its refill_work refills in process context, while the host sends to the guest
 * (iperf3 -R, and a 30 Mbit/s UDP stream beside it: TCP alone stops sending when the guest stops
 * acknowledging, before the ring is empty). What must hold: the module loaded (the test fails at once if not), iperf3 ran to its
 * end, nothing was OOM-killed, our backend found the guest's ring empty (rx_starved) and delivered
 * frames from its backlog, and every frame it read from the TAP is accounted for. The throughput,
 * the module's counters, the guest's page allocation failure warnings and refill_work runs, and the
 * backend's counters are reported.
 */
@Tag("guest")
@Tag("squeeze")
@Tag("refill")
class GuestSqueezeTest {
    private static final String MEMORY = "128M";
    private static final int SECONDS = 10;
    private static final String SQUEEZE = "period_ms=1000 squeeze_ms=200";
    // Beside TCP, which stops sending when the guest stops acknowledging, a stream that fills the RX ring.
    private static final int UDP_MEGABITS = 30;
    private static final Pattern HOLDS_AND_DROPS = Pattern.compile("^(rx_starved|rx_held|rx_backlog|rx_pool|pool_)|_drop_|backlog");

    @Test
    void theBacklogCarriesAGuestWhoseAtomicRxRefillFails() throws Exception {
        GuestRig.Options options = GuestRig.Options.defaults(GuestLogs.dirFor(GuestSqueezeTest.class)).withMemory(MEMORY);
        try (GuestRig rig = GuestRig.start(options, System.out::println)) {
            GuestRig.AtRest calmBefore = rig.countersAtRest();
            Iperf3Run calm = traffic(rig, SECONDS / 2, "unsqueezed");
            BackendStats calmGrown = rig.countersAtRest().backend().since(calmBefore.backend());
            Squeeze squeeze = Squeeze.start(rig.guest(), SQUEEZE);
            report("module", squeeze.start());
            GuestCounters guestBefore = GuestCounters.read(rig.guest());
            GuestRig.AtRest before = rig.countersAtRest();

            Iperf3Run run = traffic(rig, SECONDS, "squeezed");

            GuestRig.AtRest after = rig.countersAtRest();
            GuestCounters guestGrown = GuestCounters.read(rig.guest()).since(guestBefore);
            GuestCounters module = squeeze.stop();
            BackendStats grown = after.backend().since(before.backend());
            long held = grown.get("rx_held");
            long fromBacklog = held - grown.get("rx_drop_backlog") - after.backend().get("backlog");

            report("iperf3 host -> guest unsqueezed", calm.summary().summary() + "; a second: " + calm.seconds());
            report("iperf3 host -> guest squeezed", run.summary().summary() + "; a second: " + run.seconds());
            report("backend holds, unsqueezed", calmGrown.counters(key -> key.startsWith("rx_starved") || key.equals("rx_held")));
            report("squeeze module", module.summary());
            report("guest kernel, squeezed", guestGrown.summary());
            squeeze.failures().forEach(line -> report("guest dmesg", line));
            report("backend counters, squeezed", grown.summary());
            report("backend holds and drops, squeezed", grown.counters(key -> HOLDS_AND_DROPS.matcher(key).find()));
            report("TAP, squeezed", String.format("dropped %d frames for the guest", after.tap("tx_dropped") - before.tap("tx_dropped")));
            report("backlog", String.format("%d frames held, %d delivered from it, %d dropped, %d held at the end", held,
                    fromBacklog, grown.get("rx_drop_backlog"), after.backend().get("backlog")));

            assertTrue(module.get("squeezes") >= SECONDS / 2, () -> "the module squeezed: " + module.summary());
            assertTrue(run.summary().receivedBitsPerSecond() > 0, () -> "iperf3 under the squeeze: " + run.summary().summary());
            assertEquals(0, guestGrown.get("oom_kill"), "OOM kills in the guest");
            assertTrue(grown.get("rx_starved") > 0, () -> "the guest's RX ring never ran empty: " + grown.summary());
            assertTrue(fromBacklog > 0, () -> "the backlog delivered no frame: " + grown.summary());
            assertTrue(rig.backend().isAlive(), "the backend runs");
            assertTrue(before.still() && after.still(), "the counters were read while no frame moved");
            long uncounted = after.uncounted(before);
            assertTrue(uncounted <= 0, () -> uncounted + " frames read from the TAP did not reach the guest and were"
                    + " neither counted dropped nor held: " + grown.summary());
        }
    }

    /** iperf3 -R for {@code seconds}, a UDP stream to the guest beside it. */
    private static Iperf3Run traffic(GuestRig rig, int seconds, String name) throws IOException, InterruptedException {
        Process udp = rig.traffic().udpToGuest(UDP_MEGABITS, seconds + 2);
        Iperf3Run run = rig.traffic().iperf3EachSecond(Direction.HOST_TO_GUEST, seconds, name);
        udp.waitFor();
        return run;
    }

    private static void report(String what, String figures) {
        GuestReport.record(GuestSqueezeTest.class, what, figures);
    }
}
