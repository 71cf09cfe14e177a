package dev.lowmem.tools.bench;

import java.util.ArrayList;
import java.util.List;

/** A table, header row first, as aligned text or as a Markdown table. */
public record TextTable(List<List<String>> rows) {
    public TextTable {
        rows = rows.stream().map(List::copyOf).toList();
    }

    /** Columns padded to their widest cell, two spaces apart, each line after {@code indent}. */
    public List<String> text(String indent) {
        List<Integer> widths = new ArrayList<>();
        for (List<String> row : rows) {
            for (int i = 0; i < row.size(); i++) {
                if (i == widths.size()) {
                    widths.add(0);
                }
                widths.set(i, Math.max(widths.get(i), row.get(i).length()));
            }
        }
        List<String> lines = new ArrayList<>();
        for (List<String> row : rows) {
            StringBuilder line = new StringBuilder(indent);
            for (int i = 0; i < row.size(); i++) {
                line.append(i < row.size() - 1 ? pad(row.get(i), widths.get(i)) + "  " : row.get(i));
            }
            lines.add(line.toString());
        }
        return lines;
    }

    /** A Markdown table, the first column left-aligned, the others (numbers) right-aligned. */
    public List<String> markdown() {
        List<String> lines = new ArrayList<>();
        for (int r = 0; r < rows.size(); r++) {
            List<String> row = rows.get(r);
            StringBuilder line = new StringBuilder("|");
            row.forEach(cell -> line.append(' ').append(cell.replace("|", "\\|")).append(" |"));
            lines.add(line.toString());
            if (r == 0) {
                lines.add("|:---|" + "---:|".repeat(Math.max(0, row.size() - 1)));
            }
        }
        return lines;
    }

    private static String pad(String cell, int width) {
        return cell + " ".repeat(width - cell.length());
    }
}
