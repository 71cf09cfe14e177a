package dev.lowmem.guest;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

/**
 * The guest's squeeze module (guest-tests/guest-module/squeeze.c), loaded and unloaded over the
 * guest's command channel ({@code guest-stress squeeze-start}, {@code squeeze-stop}): for
 * {@code squeeze_ms} of every {@code period_ms} it takes the page allocator's free memory, the
 * atomic reserves included, down to {@code depth_pages}, so that atomic allocations (virtio_net's
 * RX refill in NAPI) fail while process context is served by its OOM notifier. Loading it also
 * sets a kprobe on virtio_net's refill_work, which {@link GuestCounters} then counts.
 */
public final class Squeeze {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final String STATS = "GUEST-SQUEEZE ";
    private static final String FAILURE = "page allocation failure";

    private final Guest guest;
    private final String start;

    private Squeeze(Guest guest, String start) {
        this.guest = guest;
        this.start = start;
    }

    /**
     * Loads the module with {@code parameters} ("period_ms=1000 squeeze_ms=200", or empty for its
     * defaults); fails, with the guest's words, when it does not load.
     */
    public static Squeeze start(Guest guest, String parameters) throws IOException, InterruptedException {
        return new Squeeze(guest, guest.check(TIMEOUT, ("guest-stress squeeze-start " + parameters).strip()).strip());
    }

    /** What the module said when it loaded ("squeeze: squeezing to 0 free pages for 200 ms of every 1000 ms, ..."). */
    public String start() {
        return start;
    }

    /** The module's counters now: squeezes, held_pages, peak_held_pages, oom_releases, oom_released_pages, lowest_free_pages. */
    public GuestCounters stats() throws IOException, InterruptedException {
        return GuestCounters.parse(guest.check(TIMEOUT, "guest-stress squeeze-stats"), STATS);
    }

    /** Gives the memory back, unloads the module and returns its last counters. */
    public GuestCounters stop() throws IOException, InterruptedException {
        return GuestCounters.parse(guest.check(TIMEOUT, "guest-stress squeeze-stop"), STATS);
    }

    /**
     * The kernel's page allocation failure warnings in its ring, each once with how often it came
     * ("12 swapper/0: page allocation failure: order:0, mode:0xa20(GFP_ATOMIC), ..."), and the
     * first one's call trace, which names the allocator's caller.
     */
    public List<String> failures() throws IOException, InterruptedException {
        String command = "dmesg | grep '" + FAILURE + "' | sed 's/^\\[[ 0-9.]*\\] //' | sort | uniq -c | sort -rn | head -n 5;"
                + " dmesg | grep -A 30 -m 1 '" + FAILURE + "' | grep -E '^\\[[ 0-9.]*\\]  [a-z_0-9.]+\\+0x' | sed 's/^\\[[ 0-9.]*\\]  //' | head -n 16";
        return guest.check(TIMEOUT, command).lines().map(String::strip).filter(line -> !line.isEmpty()).toList();
    }
}
