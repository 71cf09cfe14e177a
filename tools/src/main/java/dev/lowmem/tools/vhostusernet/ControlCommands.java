package dev.lowmem.tools.vhostusernet;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The requests a running backend answers, one a line, each with one line of JSON: on its control
 * socket ({@code --ctl}, {@link ControlSocket}), and on standard input or the named pipe of
 * {@code --commands} ({@link ConsoleCommands}). A request it cannot carry out gets
 * {@code {"error":"..."}} and changes nothing.
 *
 * <pre>
 * stats                    the stats line of --stats-format json
 * pool-budget SIZE         {"pool_budget_bytes":67108864,"was_bytes":1048576}
 * pcap start FILE [SIZE]   {"pcap":"FILE","max_bytes":67108864}: every device's frames into FILE, up to SIZE
 * pcap stop                {"pcap":"FILE","frames":120,"bytes":9024,"capped":false}
 * help                     {"commands":"..."}
 * </pre>
 */
final class ControlCommands {
    static final String HELP = "stats, pool-budget SIZE, pcap start FILE [SIZE], pcap stop, help";
    /** What a capture started by request may hold without a size: --pcap-max's default. */
    static final String DEFAULT_PCAP_MAX = "64M";

    /** One line of JSON, without its line end, and whether it says the request was carried out. */
    record Reply(String json, boolean ok) {
        static Reply error(String message) {
            StringBuilder json = new StringBuilder("{\"error\":");
            JsonStatsLine.quote(message, json);
            return new Reply(json.append('}').toString(), false);
        }
    }

    private final Supplier<StatsSnapshot> snapshots;
    private final LongSupplier budget;
    private final LongConsumer setBudget;
    private final CaptureControl capture;
    private final JsonStatsLine json = new JsonStatsLine();

    ControlCommands(Supplier<StatsSnapshot> snapshots, LongSupplier budget, LongConsumer setBudget,
            CaptureControl capture) {
        this.snapshots = snapshots;
        this.budget = budget;
        this.setBudget = setBudget;
        this.capture = capture;
    }

    /** The commands of {@code backend}. */
    static ControlCommands of(NetBackend backend) {
        return new ControlCommands(() -> backend.snapshot(Instant.now()), () -> backend.pool().budget(),
                budget -> backend.pool().setBudget(budget), backend.capture());
    }

    /** Carries out the request {@code line} and says how it went. */
    Reply execute(String line) {
        String[] words = line.strip().split("\\s+");
        return switch (words[0]) {
            case "stats" -> words.length == 1 ? new Reply(json.format(snapshots.get()).strip(), true)
                    : Reply.error("stats takes nothing more");
            case "pool-budget" -> poolBudget(words);
            case "pcap" -> pcap(words);
            case "help" -> new Reply("{\"commands\":\"" + HELP + "\"}", true);
            case "" -> Reply.error("an empty request; " + HELP);
            default -> Reply.error("unknown command '" + words[0] + "'; " + HELP);
        };
    }

    private Reply poolBudget(String[] words) {
        if (words.length != 2) {
            return Reply.error("pool-budget takes one size, e.g. pool-budget 64M");
        }
        long bytes;
        try {
            bytes = ByteSize.parse(words[1]);
        } catch (IllegalArgumentException e) {
            return Reply.error("pool-budget: " + e.getMessage());
        }
        long before = budget.getAsLong();
        setBudget.accept(bytes);
        return new Reply("{\"pool_budget_bytes\":" + bytes + ",\"was_bytes\":" + before + "}", true);
    }

    private Reply pcap(String[] words) {
        if (words.length >= 3 && words.length <= 4 && words[1].equals("start")) {
            return pcapStart(words[2], words.length == 4 ? words[3] : DEFAULT_PCAP_MAX);
        }
        if (words.length == 2 && words[1].equals("stop")) {
            return pcapStop();
        }
        return Reply.error("pcap start FILE [SIZE], or pcap stop");
    }

    private Reply pcapStart(String file, String size) {
        long maxBytes;
        Path path;
        try {
            maxBytes = ByteSize.parse(size);
            path = Path.of(file); // InvalidPathException is an IllegalArgumentException
        } catch (IllegalArgumentException e) {
            return Reply.error("pcap start: " + e.getMessage());
        }
        try {
            capture.start(path, maxBytes);
        } catch (IOException | IllegalArgumentException | IllegalStateException e) {
            return Reply.error("pcap start: " + (e instanceof IOException ? "cannot write " + path + ": " : "")
                    + e.getMessage());
        }
        StringBuilder reply = new StringBuilder("{\"pcap\":");
        JsonStatsLine.quote(path.toString(), reply);
        return new Reply(reply.append(",\"max_bytes\":").append(maxBytes).append('}').toString(), true);
    }

    private Reply pcapStop() {
        CaptureControl.Written written;
        try {
            written = capture.stop();
        } catch (IOException | IllegalStateException e) {
            return Reply.error("pcap stop: " + e.getMessage());
        }
        StringBuilder reply = new StringBuilder("{\"pcap\":");
        JsonStatsLine.quote(written.file().toString(), reply);
        return new Reply(reply.append(",\"frames\":").append(written.frames()).append(",\"bytes\":")
                .append(written.bytes()).append(",\"capped\":").append(written.capped()).append('}').toString(), true);
    }
}
