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
        BenchReport.Iperf3.class, BenchReport.Iperf3Seconds.class, BenchReport.Sockperf.class, BenchReport.LineChart.class},
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
            err.println("bench-report " + line.getCommandName() + ": " + e.getMessage());
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

    @Command(name = "iperf3", description = "\"MBIT_S RETRANSMITS\" from a guest's iperf3 client run in its console log"
            + " (the receiver's rate, the sender's Retr column, ? without one)")
    static final class Iperf3 implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Parameters(index = "0", description = "the console log")
        Path console;
        @Parameters(index = "1", arity = "0..1", description = "the run's name: === iperf3 NAME begin ===")
        String name;

        @Override
        public Integer call() throws IOException {
            out(spec).println(Iperf3Result.ofConsole(Files.readString(console), name).figures());
            return 0;
        }
    }

    @Command(name = "iperf3-seconds", description = "\"START END MBIT_S\" a line: the receiver's figure for each second"
            + " of the run NAME (under half a second left out)")
    static final class Iperf3Seconds implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Parameters(index = "0", description = "the console log")
        Path console;
        @Parameters(index = "1", description = "the run's name")
        String name;
        @Parameters(index = "2", description = "guest-to-host (the server's lines) or host-to-guest (the client's)")
        String direction;

        @Override
        public Integer call() throws IOException {
            if (!direction.equals("guest-to-host") && !direction.equals("host-to-guest")) {
                throw new CommandLine.ParameterException(spec.commandLine(), "direction " + direction);
            }
            String section = ConsoleSection.of(Files.readString(console), "iperf3 " + name);
            for (Iperf3Intervals.Interval i : Iperf3Intervals.parse(section, direction.equals("guest-to-host"))) {
                out(spec).println(String.format(java.util.Locale.ROOT, "%s %s %.1f", trim(i.start()), trim(i.end()),
                        i.megabitsPerSecond()));
            }
            return 0;
        }

        private static String trim(double seconds) {
            return String.format(java.util.Locale.ROOT, "%.2f", seconds);
        }
    }

    @Command(name = "sockperf", description = "\"MEDIAN_US P99_US P99.9_US\": a guest's sockperf ping-pong round trips"
            + " from its console log")
    static final class Sockperf implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Parameters(index = "0", description = "the console log")
        Path console;

        @Override
        public Integer call() throws IOException {
            out(spec).println(SockperfResult.ofConsole(Files.readString(console)).figures());
            return 0;
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
