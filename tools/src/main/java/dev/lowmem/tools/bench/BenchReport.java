package dev.lowmem.tools.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * What tools/bench and the stress scripts do not leave to bash: reading the raw output of the
 * runs they launched, the statistics over the rounds, the reports and the charts. Run from the
 * tools jar: {@code java -cp tools/target/vhost-user-net.jar dev.lowmem.tools.bench.BenchReport
 * COMMAND ...}. Exit status 1 when the output holds no result (a failed run), 2 for a bad option.
 */
@Command(name = "bench-report", mixinStandardHelpOptions = true, subcommands = {BenchReport.Report.class,
        BenchReport.Iperf3.class, BenchReport.Iperf3Seconds.class, BenchReport.Iperf3Udp.class, BenchReport.Squeeze.class,
        BenchReport.Sockperf.class, BenchReport.LineChart.class,
        BenchReport.Table.class},
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

    @Command(name = "table", description = "A tab-separated table on standard input, header first, as aligned text"
            + " (each line after --indent) or, with --markdown, as a Markdown table.")
    static final class Table implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Option(names = "--markdown")
        boolean markdown;
        @Option(names = "--indent", defaultValue = "")
        String indent;

        @Override
        public Integer call() throws IOException {
            String input = new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
            TextTable table = new TextTable(input.lines().map(line -> List.of(line.split("\t", -1))).toList());
            (markdown ? table.markdown() : table.text(indent)).forEach(out(spec)::println);
            return 0;
        }
    }

    /** A command that prints what it reads in a guest's console log. */
    abstract static class ConsoleCommand implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Parameters(index = "0", description = "the guest's console log")
        Path console;

        abstract List<String> lines(String text);

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

    @Command(name = "iperf3-seconds", description = "\"START END MBIT_S\" a line: the receiver's figure for each second"
            + " of the run NAME (under half a second left out)")
    static final class Iperf3Seconds extends ConsoleCommand {
        @Parameters(index = "1", description = "the run's name")
        String name;
        @Parameters(index = "2", description = "guest-to-host (the server's lines) or host-to-guest (the client's)")
        String direction;

        @Override
        List<String> lines(String text) {
            if (!direction.equals("guest-to-host") && !direction.equals("host-to-guest")) {
                throw new CommandLine.ParameterException(spec.commandLine(), "direction " + direction);
            }
            String section = ConsoleSection.of(text, "iperf3 " + name);
            return Iperf3Intervals.parse(section, direction.equals("guest-to-host")).stream()
                    .map(i -> String.format(Locale.ROOT, "%.2f %.2f %.1f", i.start(), i.end(), i.megabitsPerSecond())).toList();
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
}
