package dev.lowmem.tools.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What tools/bench asks the report to say, besides the runs: a file of tab-separated lines, each
 * led by its kind:
 * <pre>
 * title    TEXT                     the text report's first line
 * intro    TEXT                     the Markdown report's first line
 * header   KEY  TEXT                a line of the header (KEY empty: it continues the one above)
 * pinning  NAME TEXT                a pinning the runs may have, in the order to report them
 * part     NAME CAPTION             a part, the lines up to the next part about it:
 * table    CASES CONTENDERS RATIOS CASE_HEADER UNIT FORMAT FORMAT2
 * legend   TEXT                     a line under its tables
 * </pre>
 * CASES and CONTENDERS are lists separated by "|", in the order to print them; RATIOS is
 * "A/B=LABEL|..." with A and B contenders; FORMAT and FORMAT2 are printf formats of the value and
 * of the second value (FORMAT2 empty: the value alone).
 */
public record ReportSpec(String title, String intro, List<HeaderLine> header, Map<String, String> pinnings, List<Part> parts) {
    public record HeaderLine(String key, String text) {
    }

    public record Ratio(String numerator, String denominator, String label) {
    }

    public record Table(List<String> cases, List<String> contenders, List<Ratio> ratios, String caseHeader, String unit,
            String format, String format2) {
    }

    public record Part(String name, String caption, Table table, List<String> legend) {
    }

    public static ReportSpec read(Path file) throws IOException {
        return parse(Files.readAllLines(file));
    }

    public static ReportSpec parse(List<String> lines) {
        String title = "";
        String intro = "";
        List<HeaderLine> header = new ArrayList<>();
        Map<String, String> pinnings = new LinkedHashMap<>();
        List<Part> parts = new ArrayList<>();
        String part = null;
        String caption = "";
        Table table = null;
        List<String> legend = new ArrayList<>();
        for (String line : lines) {
            if (line.isEmpty()) {
                continue;
            }
            String[] f = line.split("\t", -1);
            switch (f[0]) {
                case "title" -> title = field(f, 1, line);
                case "intro" -> intro = field(f, 1, line);
                case "header" -> header.add(new HeaderLine(field(f, 1, line), field(f, 2, line)));
                case "pinning" -> pinnings.put(field(f, 1, line), field(f, 2, line));
                case "part" -> {
                    if (part != null) {
                        parts.add(part(part, caption, table, legend));
                    }
                    part = field(f, 1, line);
                    caption = field(f, 2, line);
                    table = null;
                    legend = new ArrayList<>();
                }
                case "table" -> table = new Table(list(field(f, 1, line)), list(field(f, 2, line)),
                        list(field(f, 3, line)).stream().map(ReportSpec::ratio).toList(), field(f, 4, line),
                        field(f, 5, line), field(f, 6, line), field(f, 7, line));
                case "legend" -> legend.add(field(f, 1, line));
                default -> throw new IllegalArgumentException("unknown line in the report's spec: " + line);
            }
        }
        if (part != null) {
            parts.add(part(part, caption, table, legend));
        }
        return new ReportSpec(title, intro, List.copyOf(header), Collections.unmodifiableMap(pinnings),
                List.copyOf(parts));
    }

    private static Part part(String name, String caption, Table table, List<String> legend) {
        if (table == null) {
            throw new IllegalArgumentException("part " + name + " has no table line");
        }
        return new Part(name, caption, table, List.copyOf(legend));
    }

    private static String field(String[] fields, int index, String line) {
        if (index >= fields.length) {
            throw new IllegalArgumentException("a " + fields[0] + " line needs " + (index + 1) + " fields: " + line);
        }
        return fields[index];
    }

    private static List<String> list(String joined) {
        return joined.isEmpty() ? List.of() : List.of(joined.split("\\|", -1));
    }

    private static Ratio ratio(String text) {
        int equals = text.indexOf('=');
        int slash = text.indexOf('/');
        if (slash < 0 || equals < slash) {
            throw new IllegalArgumentException("a ratio is A/B=LABEL: " + text);
        }
        return new Ratio(text.substring(0, slash), text.substring(slash + 1, equals), text.substring(equals + 1));
    }
}
