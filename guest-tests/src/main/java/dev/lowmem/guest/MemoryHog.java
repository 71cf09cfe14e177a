package dev.lowmem.guest;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The guest's memory hog (guest-tests/guest/memhog.c), started and stopped over the guest's
 * command channel ({@code guest-stress hog-start}, {@code hog-stop}): it holds the guest's free
 * memory just above the low watermark (as the kernel may boost it) and churns on top of it. Its
 * line a second goes to the console, so it turns up in the output of whatever command runs then;
 * {@link #observe} collects them from there.
 */
public final class MemoryHog {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(150);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final String SECOND = "MEMHOG t=";

    /** One of the hog's lines a second: {@code MEMHOG t=12 held_mb=32.8 ... cpu_pct=22 ...}. */
    public record Second(Map<String, String> fields) {
        static Second parse(String line) {
            Map<String, String> fields = new HashMap<>();
            for (String word : line.substring("MEMHOG ".length()).split(" ")) {
                int equals = word.indexOf('=');
                if (equals > 0) {
                    fields.put(word.substring(0, equals), word.substring(equals + 1));
                }
            }
            return new Second(Map.copyOf(fields));
        }

        public double number(String key) {
            return Double.parseDouble(fields.getOrDefault(key, "NaN"));
        }
    }

    private final Guest guest;
    private final String start;
    private final List<Second> seconds = new ArrayList<>();
    private String end = "";

    private MemoryHog(Guest guest, String start) {
        this.guest = guest;
        this.start = start;
    }

    /** Starts the hog with memhog's {@code options} and returns once it holds free memory at its target. */
    public static MemoryHog start(Guest guest, String options) throws IOException, InterruptedException {
        String output = guest.check(START_TIMEOUT, ("guest-stress hog-start " + options).strip());
        MemoryHog hog = new MemoryHog(guest, String.join(" ", output.lines().filter(line -> line.startsWith("MEMHOG-")).toList()));
        hog.observe(output);
        return hog;
    }

    /** Keeps the hog's lines a second that {@code output} (a guest command's) holds. */
    public void observe(String output) {
        output.lines().filter(line -> line.startsWith(SECOND)).map(Second::parse).forEach(seconds::add);
    }

    /**
     * Stops the hog; false when it was no longer running (killed: the guest's command says why, in
     * {@link #end()}, with the OOM killer's report when it was that).
     */
    public boolean stop() throws IOException, InterruptedException {
        Guest.Result result = guest.run(STOP_TIMEOUT, "guest-stress hog-stop");
        observe(result.text());
        end = String.join(" | ", result.output().stream().filter(line -> line.startsWith("MEMHOG-END")
                || line.startsWith("GUEST-ERROR") || line.startsWith("GUEST-OOM")).toList());
        return result.exitCode() == 0;
    }

    /** Its start lines (MEMHOG-START, the watermarks and its floor; MEMHOG-READY). */
    public String start() {
        return start;
    }

    /** Its last words: MEMHOG-END, or why it was not running any more. */
    public String end() {
        return end;
    }

    public List<Second> seconds() {
        return List.copyOf(seconds);
    }

    /**
     * "held 32.8 MB, free 9.3 MB (lowest 5.0), churn 40 MB/s (54 periods cut short), hog CPU 24%, zones at the dip
     * DMA:4.1/0.3,DMA32:1.0/1.0 (free/low MB)": medians over the seconds seen, the lowest free memory.
     */
    public String summary() {
        if (seconds.isEmpty()) {
            return "no line a second seen";
        }
        return String.format("%d s: held %.1f MB, free %.1f MB (lowest %.1f), churn %.0f MB/s (%d periods cut short), hog CPU %.0f%%,"
                        + " zones at the dip %s (free/low MB); medians", seconds.size(), median(s -> s.number("held_mb")),
                median(s -> s.number("free_mb")), seconds.stream().mapToDouble(s -> s.number("trough_mb")).min().orElse(Double.NaN),
                median(s -> s.number("churn_mb")), (long) seconds.stream().mapToDouble(s -> s.number("cut")).sum(),
                median(s -> s.number("cpu_pct")), seconds.get(seconds.size() / 2).fields().getOrDefault("zones_at_dip", "?"));
    }

    private double median(ToDoubleFunction<Second> field) {
        double[] values = seconds.stream().mapToDouble(field).sorted().toArray();
        int n = values.length;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }
}
