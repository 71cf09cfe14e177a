package dev.lowmem.tools.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * What tools/bench, the testpmd scripts and the stress scripts do not leave to bash: reading the
 * raw output of the runs they launched, the statistics over the rounds, the reports and the
 * charts. Run from the tools jar: {@code java -cp tools/target/vhost-user-net.jar
 * dev.lowmem.tools.bench.BenchReport COMMAND ...}. Exit status 1 when the output holds no result (a failed run), 2 for a bad option.
 */
@Command(name = "bench-report", mixinStandardHelpOptions = true, subcommands = {BenchReport.Report.class,
        BenchReport.Iperf3.class, BenchReport.Iperf3Udp.class, BenchReport.Squeeze.class,
        BenchReport.Sockperf.class, BenchReport.LineChart.class, BenchReport.StressRunCommand.class,
        BenchReport.StressTable.class, BenchReport.StressSeconds.class, BenchReport.BackendRows.class,
        BenchReport.BackendRecovery.class, BenchReport.TestpmdSummary.class, BenchReport.FrontendRateCommand.class,
        BenchReport.AcceleratorsCommand.class, BenchReport.Machine.class, BenchReport.CpuWindowCommand.class,
        BenchReport.Costs.class},
        description = "The bench's parsers, statistics, reports and charts.")
public final class BenchReport {
    static final int NO_RESULT = 1;

    private BenchReport() {
    }

    public static void main(String[] args) {
        System.exit(execute(args, System.out, System.err));
    }

    static int execute(String[] args, PrintStream out, PrintStream err) {
        CommandLine commandLine = new CommandLine(new BenchReport());
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        commandLine.setExecutionExceptionHandler((e, line, parsed) -> {
            // the parsers' messages carry the output they read after their first line
            String message = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
            err.println("bench-report " + line.getCommandName() + ": " + message);
            return NO_RESULT;
        });
        return commandLine.execute(args);
    }

    private static PrintWriter out(CommandLine.Model.CommandSpec spec) {
        return spec.commandLine().getOut();
    }

    @Command(name = "report", description = {"The report of a bench's runs: text on standard output; with --markdown",
            "also as Markdown, its chart beside it (FILE with .svg for .md); with --svg the chart alone."})
    static final class Report implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Option(names = "--results", required = true, description = "results.tsv: one line a run")
        Path results;
        @Option(names = "--spec", required = true, description = "what the report says besides the runs (ReportSpec)")
        Path reportSpec;
        @Option(names = "--markdown", description = "also write the report as Markdown")
        Path markdown;
        @Option(names = "--svg", description = "write the ratios' chart")
        Path svg;

        @Override
        public Integer call() throws IOException {
            ReportWriter writer = new ReportWriter(ReportSpec.read(reportSpec), BenchRun.read(results));
            writer.text().forEach(out(spec)::println);
            String chart = writer.chart();
            if (svg != null) {
                Files.writeString(svg, chart);
            }
            if (markdown != null) {
                Path beside = chartBeside(markdown);
                Files.writeString(beside, chart);
                Files.write(markdown, writer.markdown(beside.getFileName().toString()), StandardCharsets.UTF_8);
            }
            return 0;
        }

        static Path chartBeside(Path markdown) {
            String name = markdown.getFileName().toString();
            return markdown.resolveSibling((name.endsWith(".md") ? name.substring(0, name.length() - 3) : name) + ".svg");
        }
    }

    /** How a command prints a table: aligned text, Markdown, or tab-separated. */
    static final class TableFormat {
        @Option(names = "--markdown", description = "as a Markdown table")
        boolean markdown;
        @Option(names = "--tsv", description = "tab-separated")
        boolean tsv;
        @Option(names = "--indent", defaultValue = "", description = "before each line of aligned text")
        String indent;

        void print(List<List<String>> rows, PrintWriter out) {
            TextTable table = new TextTable(rows);
            if (tsv) {
                rows.forEach(row -> out.println(String.join("\t", row)));
            } else {
                (markdown ? table.markdown() : table.text(indent)).forEach(out::println);
            }
        }
    }

    @Command(name = "stress-run", description = {"One guest of stress-guest-memory (StressRun): writes its column's rows",
            "(RUN/figures.tsv: RANK SECTION ROW VALUE) and its 100-ms series (RUN/series.tsv: PHASE DIRECTION END_S",
            "MBIT_S STALL), and prints a line of its figures for the script's progress."})
    static final class StressRunCommand implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Option(names = "--run", required = true, description = "the run's directory: console.log, rc, tap-*, stats-*")
        Path run;
        @Option(names = "--contender", required = true, description = "ours, qemu-tap or dpdk")
        String contender;
        @Option(names = "--squeeze", description = "the run had --squeeze (its rows, the module loaded or not)")
        boolean squeezed;
        @Option(names = "--udp-mbit", defaultValue = "0", description = "the UDP stream's Mbit/s, with --squeeze")
        int udpMegabits;

        @Override
        public Integer call() throws IOException {
            StressRun stress = new StressRun(run, contender, squeezed, udpMegabits);
            List<StressRun.Row> rows = stress.rows();
            Files.write(run.resolve("figures.tsv"), rows.stream().map(StressRun.Row::tsv).toList());
            Files.write(run.resolve("series.tsv"), stress.seriesLines());
            out(spec).println(StressRun.progress(rows));
            return 0;
        }
    }

    /** A table of stress-guest-memory's, a column per run, from a file its runs wrote. */
    abstract static class StressTableCommand implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Parameters(index = "0", description = "the file: a line a figure, the run's name first")
        Path input;
        @Option(names = "--runs", required = true, split = ",", description = "the runs, in their columns' order")
        List<String> runs;
        @CommandLine.Mixin
        TableFormat format;

        abstract List<List<String>> table(List<String> lines);

        @Override
        public Integer call() throws IOException {
            format.print(table(Files.readAllLines(input)), out(spec));
            return 0;
        }
    }

    @Command(name = "stress-table", description = "stress-guest-memory's table of figures from figures.tsv (RUN RANK"
            + " SECTION ROW VALUE a line).")
    static final class StressTable extends StressTableCommand {
        @Override
        List<List<String>> table(List<String> lines) {
            return StressTables.figures(runs, lines);
        }
    }

    @Command(name = "stress-seconds", description = "stress-guest-memory's stressed series a second (the mean of its"
            + " 100-ms figures, ! a second with a stall), a column per run and direction, from series.tsv.")
    static final class StressSeconds extends StressTableCommand {
        @Override
        List<List<String>> table(List<String> lines) {
            return StressTables.stressedSeconds(runs, lines);
        }
    }

    /** Our back-end's JSON stats lines around a change made at a moment (BackendSeries). */
    static final class BackendWindow {
        @Option(names = "--stats", required = true, description = "the back-end's standard output")
        Path stats;
        @Option(names = "--raised-at", required = true, description = "the change's time, epoch seconds")
        double change;
        @Option(names = "--before", required = true, description = "seconds before it")
        double before;
        @Option(names = "--after", required = true, description = "seconds after it")
        double after;

        List<BackendSeries.Row> rows(double step) throws IOException {
            return BackendSeries.parse(Files.readString(stats)).rows(change, before, after, step);
        }
    }

    @Command(name = "backend-rows", description = "stress-backend-memory's rows: from a stats line to the first at least"
            + " --step seconds later (0: every line), the rate into the guest and what the counters did, header first.")
    static final class BackendRows implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @CommandLine.Mixin
        BackendWindow window;
        @Option(names = "--step", defaultValue = "0")
        double step;
        @CommandLine.Mixin
        TableFormat format;

        @Override
        public Integer call() throws IOException {
            format.print(BackendSeries.table(window.rows(step)), out(spec));
            return 0;
        }
    }

    @Command(name = "backend-recovery", description = "The medians of the rate before and after the change, a row a"
            + " stats line, and the first row after it at 90% of the later median.")
    static final class BackendRecovery implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @CommandLine.Mixin
        BackendWindow window;

        @Override
        public Integer call() throws IOException {
            out(spec).println(BackendSeries.recovery(window.rows(0)));
            return 0;
        }
    }

    /** A command that prints what it reads in a guest's console log. */
    abstract static class ConsoleCommand implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Parameters(index = "0", description = "the guest's console log")
        Path console;

        abstract List<String> lines(String text) throws IOException;

        @Override
        public Integer call() throws IOException {
            lines(Files.readString(console)).forEach(out(spec)::println);
            return 0;
        }
    }

    @Command(name = "iperf3", description = "\"MBIT_S RETRANSMITS\" from a guest's iperf3 client run in its console log"
            + " (the receiver's rate, the sender's Retr column, ? without one)")
    static final class Iperf3 extends ConsoleCommand {
        @Parameters(index = "1", arity = "0..1", description = "the run's name: === iperf3 NAME begin ===")
        String name;

        @Override
        List<String> lines(String text) {
            return List.of(Iperf3Result.ofConsole(text, name).figures());
        }
    }

    @Command(name = "iperf3-udp", description = "\"MBIT_S LOST TOTAL LOSS_PERCENT\" from the receiver's summary of a"
            + " guest's iperf3 -u -R run NAME in its console log")
    static final class Iperf3Udp extends ConsoleCommand {
        @Parameters(index = "1", description = "the run's name: === iperf3 NAME begin ===")
        String name;

        @Override
        List<String> lines(String text) {
            return List.of(Iperf3UdpResult.ofConsole(text, name).figures());
        }
    }

    @Command(name = "squeeze", description = "\"KEY VALUE\" a line: the squeeze module's counters from the last"
            + " GUEST-SQUEEZE line of a guest's console log")
    static final class Squeeze extends ConsoleCommand {
        @Override
        List<String> lines(String text) {
            return SqueezeStats.ofConsole(text).entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).toList();
        }
    }

    @Command(name = "sockperf", description = "\"MEDIAN_US P99_US P99.9_US\": a guest's sockperf ping-pong round trips"
            + " from its console log")
    static final class Sockperf extends ConsoleCommand {
        @Override
        List<String> lines(String text) {
            return List.of(SockperfResult.ofConsole(text).figures());
        }
    }

    @Command(name = "cpu-window", description = {"\"NAME SECONDS\" a process: the CPU each used between the guest's",
            "GUEST-COSTS before and after lines (CpuWindow), read as they reach its console log; exit 1 if the",
            "guest ended (GUEST-DONE) or the timeout passed first"})
    static final class CpuWindowCommand implements Callable<Integer> {
        private static final long POLL_MS = 10;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Option(names = "--console", required = true, description = "the guest's console log, as it grows")
        Path console;
        @Option(names = "--process", required = true, description = "NAME=PID, or NAME=COMMAND:TEXT for the process"
                + " whose command starts with COMMAND and whose command line holds TEXT (found when the window opens)")
        List<String> processes;
        @Option(names = "--timeout", defaultValue = "600", description = "seconds to wait for the window to close")
        long timeoutSeconds;

        @Override
        public Integer call() throws IOException, InterruptedException {
            CpuWindow window = new CpuWindow(ProcessCpu.host(), processes.stream().map(CpuWindow.Watched::parse).toList());
            long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
            long offset = 0;
            StringBuilder seen = new StringBuilder();
            while (System.nanoTime() < deadline) {
                String next = readFrom(console, offset);
                offset += next.getBytes(StandardCharsets.ISO_8859_1).length;
                seen.append(next);
                if (window.feed(next)) {
                    window.seconds().forEach((name, seconds) -> out(spec).printf(java.util.Locale.ROOT, "%s %.2f%n", name, seconds));
                    return 0;
                }
                if (seen.indexOf("GUEST-DONE") >= 0) {
                    break;
                }
                Thread.sleep(POLL_MS);
            }
            spec.commandLine().getErr().println("bench-report cpu-window: no GUEST-COSTS before and after lines in " + console);
            return NO_RESULT;
        }

        /** The bytes of {@code file} from {@code offset} on, one char a byte (the markers are ASCII); empty before it exists. */
        private static String readFrom(Path file, long offset) throws IOException {
            if (!Files.exists(file)) {
                return "";
            }
            try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(file)) {
                long size = channel.size();
                if (size <= offset) {
                    return "";
                }
                java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate((int) (size - offset));
                while (bytes.hasRemaining() && channel.read(bytes, offset + bytes.position()) > 0) {
                    // until the buffer is full or the file ends
                }
                return new String(bytes.array(), 0, bytes.position(), StandardCharsets.ISO_8859_1);
            }
        }
    }

    @Command(name = "costs", description = {"\"METRIC VALUE\" lines: what each frame of a guest's measured run cost",
            "(GuestCosts): kicks, interrupts, KiB, guest-cpu-us, NAME-cpu-us a host process, host-cpu-us"})
    static final class Costs extends ConsoleCommand {
        @Option(names = "--way", required = true, description = "TX or RX: the guest's counter that counts the frames")
        GuestCosts.Way way;
        @Option(names = "--cpu", required = true, description = "cpu-window's output: NAME SECONDS a line")
        Path cpu;

        @Override
        List<String> lines(String text) throws IOException {
            Map<String, Double> seconds = new java.util.LinkedHashMap<>();
            Counters.ofLines(Files.readString(cpu)).values()
                    .forEach((name, value) -> seconds.put(name, Double.parseDouble(value)));
            return GuestCosts.of(text, way, seconds).lines();
        }
    }

    @Command(name = "line-chart", description = "An SVG of series read from a table of figures (SeriesTable).")
    static final class LineChart implements Callable<Integer> {
        @Option(names = "--input", required = true)
        Path input;
        @Option(names = "--x-column", required = true)
        int xColumn;
        @Option(names = "--y-column", required = true)
        int yColumn;
        @Option(names = "--series-columns", split = ",", description = "the columns that name a series")
        List<Integer> seriesColumns = new ArrayList<>();
        @Option(names = "--series", defaultValue = "", description = "the series' name without --series-columns")
        String seriesName;
        @Option(names = "--panel-column", defaultValue = "0", description = "a panel per value of this column")
        int panelColumn;
        @Option(names = "--title", defaultValue = "")
        String title;
        @Option(names = "--x-label", defaultValue = "")
        String xLabel;
        @Option(names = "--y-label", defaultValue = "")
        String yLabel;
        @Option(names = "--svg", required = true)
        Path svg;

        @Override
        public Integer call() throws IOException {
            Map<String, List<Charts.Series>> panels = new SeriesTable(panelColumn, seriesColumns, xColumn, yColumn)
                    .panels(input, seriesName);
            List<Charts.SeriesPanel> charts = new ArrayList<>();
            panels.forEach((panel, series) -> charts.add(
                    new Charts.SeriesPanel(panel.isEmpty() ? title : title + ": " + panel, xLabel, yLabel, series)));
            Files.writeString(svg, Charts.series(charts));
            return 0;
        }
    }

    @Command(name = "testpmd-summary", description = {"A line a port from the last statistics blocks of testpmd's log"
            + " (TestpmdLog): testpmd role=ROLE port=N [name=NAME] rx_packets=.. tx_packets=.. rx_bytes=..",
            "tx_bytes=.. rx_missed=.. tx_dropped=.. rx_errors=.. tx_errors=.. rx_nombuf=.. [EXTRA]"})
    static final class TestpmdSummary implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Parameters(index = "0", description = "testpmd's log: its output in interactive mode")
        Path log;
        @Option(names = "--role", required = true, description = "frontend or backend")
        String role;
        @Option(names = "--extra", defaultValue = "", description = "words at the end of every line (seconds=.. features=..)")
        String extra;
        @Option(names = "--names", defaultValue = "", description = "the ports' names, comma-separated, port 0 first")
        String names;

        @Override
        public Integer call() throws IOException {
            TestpmdLog.parse(Files.readString(log)).summary(role, extra, names).forEach(out(spec)::println);
            return 0;
        }
    }

    @Command(name = "frontend-rate", description = "\"MPPS GBIT_S\" of a front-end's run in tools/bench's testpmd part,"
            + " from its output (FrontendRate)")
    static final class FrontendRateCommand implements Callable<Integer> {
        /** The front-ends whose lines FrontendRate reads. */
        enum Frontend { testpmd, loadgen }

        /** Which frames a rate counts: received or sent. */
        enum Counted { rx, tx }

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Parameters(index = "0", description = "testpmd (testpmd-frontend's line) or loadgen (tools/bin/loadgen's)")
        Frontend frontend;
        @Parameters(index = "1", description = "the front-end's standard output")
        Path output;
        @Option(names = "--counted", required = true, description = "rx or tx: the frames received or sent")
        Counted counted;
        @Option(names = "--size", defaultValue = "0", description = "the frame size in bytes, for loadgen's Gbit/s")
        int size;

        @Override
        public Integer call() throws IOException {
            String text = Files.readString(output);
            out(spec).println(switch (frontend) {
                case testpmd -> FrontendRate.ofTestpmd(text, counted.name());
                case loadgen -> FrontendRate.ofLoadgen(text, counted.name(), size);
            });
            return 0;
        }
    }

    @Command(name = "accelerators", description = "\"tcg (N runs), ...\": the accelerators run-guest used, from its"
            + " stderr files under a directory (Accelerators); nothing when no file matches")
    static final class AcceleratorsCommand implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Parameters(index = "0", description = "the directory, e.g. a bench's runs/")
        Path directory;
        @Parameters(index = "1", description = "a glob of files under it, e.g. '*-guest-*/guest.err'")
        String glob;

        @Override
        public Integer call() throws IOException {
            java.nio.file.PathMatcher matcher = directory.getFileSystem().getPathMatcher("glob:" + glob);
            List<String> texts = new ArrayList<>();
            if (Files.isDirectory(directory)) {
                try (var files = Files.walk(directory)) {
                    for (Path file : files.filter(Files::isRegularFile).sorted().toList()) {
                        if (matcher.matches(directory.relativize(file))) {
                            texts.add(Files.readString(file));
                        }
                    }
                }
            }
            out(spec).println(Accelerators.count(texts));
            return 0;
        }
    }

    @Command(name = "machine", description = {"KEY<TAB>VALUE lines for tools/bench's header and the hugepage checks"
            + " (MachineFacts): cpu_model, mem_mib,", "hugepages_total, hugepages_free, qemu and iperf3 (the versions),"
            + " and kernel_release (the guest's) with --manifest; a fact not found is empty."})
    static final class Machine implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Option(names = "--cpuinfo", defaultValue = "/proc/cpuinfo")
        Path cpuinfo;
        @Option(names = "--meminfo", defaultValue = "/proc/meminfo")
        Path meminfo;
        @Option(names = "--qemu-version", defaultValue = "", description = "what qemu-system-x86_64 --version printed")
        String qemuVersion;
        @Option(names = "--iperf3-version", defaultValue = "", description = "what iperf3 --version printed")
        String iperf3Version;
        @Option(names = "--manifest", description = "the guest's manifest (build-guest's cache directory)")
        Path manifest;

        @Override
        public Integer call() throws IOException {
            Optional<String> guest = manifest != null && Files.isReadable(manifest)
                    ? Optional.of(Files.readString(manifest)) : Optional.empty();
            MachineFacts.of(Files.readString(cpuinfo), Files.readString(meminfo), qemuVersion, iperf3Version, guest)
                    .forEach((key, value) -> out(spec).println(key + "\t" + value));
            return 0;
        }
    }
}
