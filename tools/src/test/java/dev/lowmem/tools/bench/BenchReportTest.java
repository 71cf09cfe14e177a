package dev.lowmem.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** The command tools/bench runs, on a real run's results (tools/bench --only latency --rounds 1 --seconds 3). */
class BenchReportTest {
    private static final List<String> SPEC = List.of(
            "title\tlowmem-vnet bench: tools/bench --only latency",
            "intro\tTaken with `tools/bench --only latency`:",
            "header\tplan\t1 round(s) of latency,",
            "header\t\t  their order rotating round by round",
            "pinning\tnone\tnothing pinned",
            "pinning\tsplit\tfront-end and back-end on CPUs of their own",
            "part\tlatency\tA guest's UDP round trips: microseconds, median of 1",
            "table\tmedian|p99|p99.9\tours|qemu-tap|qemu-tap-intx|dpdk"
                    + "\tours/qemu-tap=ours/QEMU-TAP|ours/qemu-tap-intx=ours/QEMU-TAP-INTx|ours/dpdk=ours/DPDK\tround trip\tus\t%.0f\t",
            "legend\tA ratio below 1: ours is faster.");

    private record Run(int status, String out, String err) {
    }

    private static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = BenchReport.execute(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void theTextReportOfARealRunAsTheAwkOneWas(@TempDir Path dir) throws Exception {
        Path spec = Files.write(dir.resolve("spec.tsv"), SPEC);
        Path results = Fixtures.copy("latency-results.tsv", dir);

        Run report = run("report", "--results", results.toString(), "--spec", spec.toString(), "--svg", dir.resolve("r.svg").toString(),
                "--markdown", dir.resolve("bench.md").toString());

        assertEquals(0, report.status(), report.err());
        assertEquals("""
                lowmem-vnet bench: tools/bench --only latency
                  plan      1 round(s) of latency,
                              their order rotating round by round

                A guest's UDP round trips: microseconds, median of 1; pinning split (front-end and back-end on CPUs of their own)
                  round trip  ours us  qemu-tap us  qemu-tap-intx us  dpdk us  ours/QEMU-TAP  ours/QEMU-TAP-INTx  ours/DPDK
                  median      1004     849          721               890      1.18           1.39                1.13
                  p99         4885     18073        7868              12177    0.27           0.62                0.40
                  p99.9       6425     33491        10398             34701    0.19           0.62                0.19
                  A ratio below 1: ours is faster.
                """, report.out());
        String markdown = Files.readString(dir.resolve("bench.md"));
        assertTrue(markdown.startsWith("""
                Taken with `tools/bench --only latency`:

                - plan: 1 round(s) of latency, their order rotating round by round
                """), markdown);
        assertTrue(markdown.contains("| median | 1004 | 849 | 721 | 890 | 1.18 | 1.39 | 1.13 |"), markdown);
        assertTrue(markdown.contains("![ours over each other contender, a bar per case, whiskers the rounds' lowest and highest](bench.svg)"));
        assertEquals(9, ChartsTest.select(ChartsTest.parse(Files.readString(dir.resolve("bench.svg"))), "//rect[@class='bar']").getLength());
        assertEquals(Files.readString(dir.resolve("bench.svg")), Files.readString(dir.resolve("r.svg")));
    }

    @Test
    void aTableForEachPinningAndTheFailedRunsListedOnce(@TempDir Path dir) throws Exception {
        Path spec = Files.write(dir.resolve("spec.tsv"), SPEC);
        List<String> lines = new java.util.ArrayList<>(Files.readAllLines(Fixtures.copy("latency-results.tsv", dir)));
        lines.replaceAll(line -> line + "\tsplit");
        lines.add("latency\tmedian\tours\t1\t900\t-\t/runs/005\tnone");
        lines.add("latency\tp99\tours\t1\t-\t-\t/runs/006\tnone");
        lines.add("latency\tp99.9\tours\t1\t-\t-\t/runs/006\tnone");
        Path results = Files.write(dir.resolve("results.tsv"), lines);

        Run report = run("report", "--results", results.toString(), "--spec", spec.toString());

        assertEquals(0, report.status(), report.err());
        int none = report.out().indexOf("pinning none (nothing pinned)");
        int split = report.out().indexOf("pinning split");
        assertTrue(none > 0 && split > none, report.out());
        assertTrue(report.out().contains("  p99         failed   -"), report.out());
        assertTrue(report.out().endsWith("""
                Failed runs (a cell marked * lost some of its runs, its median is of the others):
                  /runs/006
                """), report.out());
    }

    @Test
    void parsersPrintWhatTheBenchRecords(@TempDir Path dir) throws Exception {
        Path sockperf = Fixtures.copy("sockperf-console.log", dir);
        Path iperf3 = Fixtures.copy("iperf3-console.log", dir);
        Path stress = Fixtures.copy("iperf3-stress-console.log", dir);

        assertEquals("1004.150 4885.249 6425.471\n", run("sockperf", sockperf.toString()).out());
        assertEquals("1870.0 0\n", run("iperf3", iperf3.toString()).out());
        assertEquals("1080.0 4\n", run("iperf3", stress.toString(), "stressed-guest-to-host").out());
        Run none = run("sockperf", iperf3.toString());
        assertEquals(BenchReport.NO_RESULT, none.status());
        assertTrue(none.err().startsWith("bench-report sockperf: no sockperf round-trip summary"), none.err());
    }

    @Test
    void squeezeCommandsPrintWhatTheStressScriptRecords(@TempDir Path dir) throws Exception {
        Path squeezed = Fixtures.copy("squeeze-stress-console.log", dir);
        Path unsqueezed = Fixtures.copy("iperf3-stress-console.log", dir);

        assertEquals("26.4 1344 10457 12.85\n", run("iperf3-udp", squeezed.toString(), "stressed-udp").out());
        assertEquals("squeezes 11\nheld_pages 0\npeak_held_pages 7775\noom_waits 10\noom_releases 0\noom_released_pages 0\n"
                + "lowest_free_pages 0\n", run("squeeze", squeezed.toString()).out());
        Run none = run("squeeze", unsqueezed.toString());
        assertEquals(BenchReport.NO_RESULT, none.status());
        assertTrue(none.err().startsWith("bench-report squeeze: no GUEST-SQUEEZE line"), none.err());
    }

    @Test
    void lineChartAPanelPerDirectionALinePerBackEndAndPhase(@TempDir Path dir) throws Exception {
        Path series = Files.write(dir.resolve("series.tsv"), List.of(
                "ours\tstressed\tguest-to-host\t1\t1500\t0",
                "ours\tstressed\tguest-to-host\t2\t100\t1",
                "qemu-tap\tstressed\tguest-to-host\t1\t1400\t0",
                "ours\tstressed\thost-to-guest\t1\t2000\t0"));
        Path svg = dir.resolve("series.svg");

        Run chart = run("line-chart", "--input", series.toString(), "--panel-column", "3", "--series-columns", "1,2",
                "--x-column", "4", "--y-column", "5", "--title", "Mbit/s a second", "--svg", svg.toString());

        assertEquals(0, chart.status(), chart.err());
        var document = ChartsTest.parse(Files.readString(svg));
        NodeList lines = ChartsTest.select(document, "//polyline[@class='series']");
        assertEquals(3, lines.getLength());
        assertEquals("ours stressed", ChartsTest.select(document, "//polyline/title").item(0).getTextContent());
        String ours = ((Element) lines.item(0)).getAttribute("stroke");
        assertNotEquals(ours, ((Element) lines.item(1)).getAttribute("stroke"), "a colour a back-end");
        assertEquals(ours, ((Element) lines.item(2)).getAttribute("stroke"), "ours in the other panel too");
        assertEquals("Mbit/s a second: guest-to-host", ChartsTest.select(document, "//text").item(0).getTextContent());
    }

    @Test
    void stressRunWritesAGuestsRowsAndSeriesAndTheTablesReadThem(@TempDir Path dir) throws Exception {
        Path run = Fixtures.copyRun("stress-run-ours-squeeze", Files.createDirectory(dir.resolve("ours+squeeze")));

        Run analysed = run("stress-run", "--run", run.toString(), "--contender", "ours", "--squeeze", "--udp-mbit", "30");

        assertEquals(0, analysed.status(), analysed.err());
        assertEquals("g->h 1320 (1) -> 649 (1) Mbit/s, h->g 1320 (5) -> 397 (103) Mbit/s, rc 0, hog alive to the end\n",
                analysed.out());
        // the script puts the run's name before each line of both files
        Path figures = Files.write(dir.resolve("figures.tsv"),
                Files.readAllLines(run.resolve("figures.tsv")).stream().map(line -> "ours+squeeze\t" + line).toList());
        Path series = Files.write(dir.resolve("series.tsv"),
                Files.readAllLines(run.resolve("series.tsv")).stream().map(line -> "ours+squeeze\t" + line).toList());
        String table = run("stress-table", figures.toString(), "--runs", "ours+squeeze", "--markdown").out();
        assertTrue(table.contains("| host->guest | unstressed Mbit/s (retr) | 1320 (5) |"), table);
        assertTrue(table.contains("|  | back within after a squeeze, ms: median / worst | 98 / 129 ms of 4 |"), table);
        String seconds = run("stress-seconds", series.toString(), "--runs", "ours+squeeze", "--indent", "  ").out();
        assertTrue(seconds.startsWith("  second  ours+squeeze g->h  ours+squeeze h->g\n"), seconds);
        assertEquals(5, seconds.lines().count(), "a header and four seconds");
    }

    @Test
    void backendRowsAndRecoveryPrintWhatStressBackendMemoryReports(@TempDir Path dir) throws Exception {
        Path stats = Fixtures.copy("backend-stats-raise.out", dir);
        String[] window = {"--stats", stats.toString(), "--raised-at", "1796310615.292", "--before", "5", "--after", "5"};

        List<String> everyLine = run(concat("backend-rows", window, "--tsv")).out().lines().toList();
        String bySecond = run(concat("backend-rows", window, "--step", "1", "--markdown")).out();

        assertEquals(100, everyLine.size(), "a header and a row a stats line");
        assertEquals("-4.9\t29\t0\t3\t3\t0\t1879\t0\t0\t0.0", everyLine.get(1));
        assertTrue(bySecond.contains("| +0.9 | 61 | 4522 | 8 | 8 | 0 | 16529 | 0 | 0 | 2.0 |"), bySecond);
        assertEquals("median before the raise 62 Mbit/s, after 54; at 90% of the later median from 0.4 s after the raise\n",
                run(concat("backend-recovery", window)).out());
    }

    @Test
    void theTestpmdCommandsOnARealFrontEndsLogAndOutput(@TempDir Path dir) throws Exception {
        Path log = Fixtures.copy("testpmd-frontend/frontend-testpmd.log", dir);
        Path out = Fixtures.copy("testpmd-frontend/frontend.out", dir);

        assertEquals(Fixtures.text("testpmd-frontend/frontend.out"), run("testpmd-summary", log.toString(), "--role", "frontend",
                "--extra", "seconds=3.06 features=0x910018000").out());
        assertEquals("1.092350 0.559283\n", run("frontend-rate", "testpmd", out.toString(), "--counted", "tx").out());
        assertEquals(2, run("frontend-rate", "testpmd", out.toString(), "--counted", "io").status(), "rx or tx only");
        Path noStatistics = Files.writeString(dir.resolve("empty.log"), "testpmd> quit\n");
        Run failed = run("testpmd-summary", noStatistics.toString(), "--role", "frontend");
        assertEquals(BenchReport.NO_RESULT, failed.status());
        assertTrue(failed.err().startsWith("bench-report testpmd-summary: no port statistics"), failed.err());
    }

    @Test
    void theAcceleratorsOfTheRunsAGlobNames(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("001-guest-ours-r1"));
        Files.createDirectories(dir.resolve("002-latency-ours-r1"));
        Files.writeString(dir.resolve("001-guest-ours-r1/guest.err"), "run-guest: rc=0 (GUEST-DONE rc=0) accel=tcg in 23.19s\n");
        Files.writeString(dir.resolve("002-latency-ours-r1/guest.err"), "run-guest: rc=0 (GUEST-DONE rc=0) accel=kvm in 3.1s\n");

        assertEquals("tcg (1 runs)\n", run("accelerators", dir.toString(), "*-guest-*/guest.err").out());
        assertEquals("\n", run("accelerators", dir.toString(), "*-switch-*/guest0.err").out());
    }

    private static String[] concat(String command, String[] options, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of(command));
        args.addAll(List.of(options));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }
}
