package dev.lowmem.tools.bench;

import java.util.List;
import java.util.Locale;

/**
 * A small SVG writer: the few elements the bench's charts draw, in user units, every text
 * escaped. {@link #toString()} is the document.
 */
public final class Svg {
    private final double width;
    private final double height;
    private final StringBuilder body = new StringBuilder();

    public Svg(double width, double height) {
        this.width = width;
        this.height = height;
    }

    /** A rectangle of {@code cssClass}, its {@code title} shown on hover. */
    public Svg rect(String cssClass, double x, double y, double w, double h, String fill, String title) {
        body.append("<rect class=\"").append(escape(cssClass)).append("\" x=\"").append(n(x)).append("\" y=\"").append(n(y))
                .append("\" width=\"").append(n(w)).append("\" height=\"").append(n(h)).append("\" fill=\"").append(escape(fill))
                .append('"');
        return closeWithTitle(title, "rect");
    }

    public Svg line(String cssClass, double x1, double y1, double x2, double y2, String stroke, String dash) {
        return line(cssClass, x1, y1, x2, y2, stroke, dash, 1);
    }

    public Svg line(String cssClass, double x1, double y1, double x2, double y2, String stroke, String dash, double width) {
        body.append("<line class=\"").append(escape(cssClass)).append("\" x1=\"").append(n(x1)).append("\" y1=\"").append(n(y1))
                .append("\" x2=\"").append(n(x2)).append("\" y2=\"").append(n(y2)).append("\" stroke=\"").append(escape(stroke))
                .append('"');
        if (width != 1) {
            body.append(" stroke-width=\"").append(n(width)).append('"');
        }
        dashes(dash);
        body.append("/>\n");
        return this;
    }

    private void dashes(String dash) {
        if (!dash.isEmpty()) {
            body.append(" stroke-dasharray=\"").append(escape(dash)).append('"');
        }
    }

    /** A line through {@code points}, each {x, y}; {@code dash} a stroke-dasharray, empty for a solid line. */
    public Svg polyline(String cssClass, List<double[]> points, String stroke, String dash, String title) {
        StringBuilder coordinates = new StringBuilder();
        for (double[] point : points) {
            coordinates.append(coordinates.isEmpty() ? "" : " ").append(n(point[0])).append(',').append(n(point[1]));
        }
        body.append("<polyline class=\"").append(escape(cssClass)).append("\" points=\"").append(coordinates)
                .append("\" fill=\"none\" stroke=\"").append(escape(stroke)).append("\" stroke-width=\"1.5\"");
        dashes(dash);
        return closeWithTitle(title, "polyline");
    }

    /** Text at (x, y); {@code anchor} start, middle or end. */
    public Svg text(double x, double y, String anchor, String text) {
        body.append("<text x=\"").append(n(x)).append("\" y=\"").append(n(y)).append("\" text-anchor=\"").append(anchor)
                .append("\">").append(escape(text)).append("</text>\n");
        return this;
    }

    /** Text turned a quarter left about (x, y), for a vertical axis. */
    public Svg verticalText(double x, double y, String text) {
        body.append("<text x=\"").append(n(x)).append("\" y=\"").append(n(y)).append("\" text-anchor=\"middle\" transform=\"rotate(-90 ")
                .append(n(x)).append(' ').append(n(y)).append(")\">").append(escape(text)).append("</text>\n");
        return this;
    }

    @Override
    public String toString() {
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                + "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + n(width) + "\" height=\"" + n(height)
                + "\" viewBox=\"0 0 " + n(width) + " " + n(height) + "\" font-family=\"sans-serif\" font-size=\"12\">\n"
                + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n" + body + "</svg>\n";
    }

    private Svg closeWithTitle(String title, String element) {
        if (title.isEmpty()) {
            body.append("/>\n");
        } else {
            body.append("><title>").append(escape(title)).append("</title></").append(element).append(">\n");
        }
        return this;
    }

    static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static String n(double value) {
        return String.format(Locale.ROOT, "%.1f", value);
    }
}
