package dev.lowmem.tools.bench;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The bench's report from its runs and its spec: the header, for each part a table per pinning
 * (medians and ratios, then the rounds' ranges when there were several) with the part's legend,
 * the runs that failed; as aligned text or Markdown, and the ratios as an SVG chart.
 */
public final class ReportWriter {
    private final ReportSpec spec;
    private final List<BenchRun> runs;

    public ReportWriter(ReportSpec spec, List<BenchRun> runs) {
        this.spec = spec;
        this.runs = List.copyOf(runs);
    }

    public List<String> text() {
        List<String> lines = new ArrayList<>();
        lines.add(spec.title());
        for (ReportSpec.HeaderLine line : spec.header()) {
            lines.add(String.format("  %-9s %s", line.key(), line.text()));
        }
        for (ReportSpec.Part part : spec.parts()) {
            for (String pinning : pinnings(part)) {
                BenchTable table = table(part, pinning);
                lines.add("");
                lines.add(caption(part, pinning));
                lines.addAll(table.medians().text("  "));
                if (table.hasRounds()) {
                    lines.add("  rounds, lowest-highest:");
                    lines.addAll(table.ranges().text("  "));
                }
            }
            part.legend().forEach(line -> lines.add("  " + line));
        }
        lines.addAll(failures());
        return lines;
    }

    /** @param chart the name of the SVG beside the Markdown, linked at its end; null for none */
    public List<String> markdown(String chart) {
        List<String> lines = new ArrayList<>();
        lines.add(spec.intro());
        lines.add("");
        // one list item per key, its continuation lines joined to it
        List<String> items = new ArrayList<>();
        for (ReportSpec.HeaderLine line : spec.header()) {
            String text = line.text().strip().replaceAll(" +", " ");
            if (line.key().isEmpty() && !items.isEmpty()) {
                items.set(items.size() - 1, items.getLast() + " " + text);
            } else {
                items.add("- " + line.key() + ": " + text);
            }
        }
        lines.addAll(items);
        for (ReportSpec.Part part : spec.parts()) {
            for (String pinning : pinnings(part)) {
                BenchTable table = table(part, pinning);
                lines.add("");
                lines.add(caption(part, pinning));
                lines.add("");
                lines.addAll(table.medians().markdown());
                if (table.hasRounds()) {
                    lines.add("");
                    lines.add("Rounds, lowest-highest:");
                    lines.add("");
                    lines.addAll(table.ranges().markdown());
                }
            }
            lines.add("");
            lines.addAll(part.legend());
        }
        if (chart != null) {
            lines.add("");
            lines.add("![ours over each other contender, a bar per case, whiskers the rounds' lowest and highest](" + chart + ")");
        }
        lines.addAll(failures());
        return lines;
    }

    /** A panel per part and pinning with ratios and runs. */
    public String chart() {
        List<Charts.RatioPanel> panels = new ArrayList<>();
        for (ReportSpec.Part part : spec.parts()) {
            if (part.table().ratios().isEmpty()) {
                continue;
            }
            for (String pinning : pinnings(part)) {
                BenchTable table = table(part, pinning);
                panels.add(new Charts.RatioPanel(part.name() + ", pinning " + pinning + ": "
                        + String.join(", ", part.table().ratios().stream().map(ReportSpec.Ratio::label).toList()),
                        part.table().cases(), part.table().ratios().stream().map(ReportSpec.Ratio::label).toList(),
                        table.ratioBars()));
            }
        }
        return Charts.ratios(panels);
    }

    /** The pinnings part's runs had, in the spec's order, then any other in the order met. */
    private List<String> pinnings(ReportSpec.Part part) {
        Set<String> had = new LinkedHashSet<>();
        runs.stream().filter(r -> r.part().equals(part.name())).forEach(r -> had.add(r.pinning()));
        List<String> ordered = new ArrayList<>(spec.pinnings().keySet());
        ordered.retainAll(had);
        had.stream().filter(p -> !ordered.contains(p)).forEach(ordered::add);
        return ordered;
    }

    private BenchTable table(ReportSpec.Part part, String pinning) {
        return new BenchTable(part.table(),
                runs.stream().filter(r -> r.part().equals(part.name()) && r.pinning().equals(pinning)).toList());
    }

    private String caption(ReportSpec.Part part, String pinning) {
        String described = spec.pinnings().get(pinning);
        return part.caption() + "; pinning " + pinning + (described == null ? "" : " (" + described + ")");
    }

    private List<String> failures() {
        List<String> failed = runs.stream().filter(BenchRun::failed).map(r -> "  " + r.directory()).distinct().toList();
        if (failed.isEmpty()) {
            return List.of();
        }
        List<String> lines = new ArrayList<>();
        lines.add("");
        lines.add("Failed runs (a cell marked * lost some of its runs, its median is of the others):");
        lines.addAll(failed);
        return lines;
    }
}
