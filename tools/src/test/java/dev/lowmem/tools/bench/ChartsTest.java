package dev.lowmem.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathConstants;
import javax.xml.xpath.XPathFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** The charts read back as XML: their bars, whiskers and lines where the figures put them. */
class ChartsTest {
    static Document parse(String svg) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(false);
        return factory.newDocumentBuilder().parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
    }

    static NodeList select(Document document, String xpath) throws Exception {
        return (NodeList) XPathFactory.newInstance().newXPath().evaluate(xpath, document, XPathConstants.NODESET);
    }

    static double attribute(NodeList nodes, int index, String name) {
        return Double.parseDouble(((Element) nodes.item(index)).getAttribute(name));
    }

    @Test
    void aBarPerRatioWithAFigureFromLevelToItOnALogScale() throws Exception {
        Charts.RatioPanel panel = new Charts.RatioPanel("guest", List.of("guest->host", "host->guest"),
                List.of("ours/QEMU-TAP", "ours/DPDK"), List.of(
                        new BenchTable.RatioBar("guest->host", "ours/QEMU-TAP", 0.5, 0.4, 0.7),
                        new BenchTable.RatioBar("guest->host", "ours/DPDK", 2.0, 1.5, 2.5),
                        new BenchTable.RatioBar("host->guest", "ours/QEMU-TAP", 4.0, 4.0, 4.0),
                        new BenchTable.RatioBar("host->guest", "ours/DPDK", Double.NaN, Double.NaN, Double.NaN)));

        Document svg = parse(Charts.ratios(List.of(panel)));

        NodeList bars = select(svg, "//rect[@class='bar']");
        assertEquals(3, bars.getLength(), "no bar without a figure");
        double level = attribute(select(svg, "//line[@class='level']"), 0, "y1");
        double half = attribute(bars, 0, "height");
        assertEquals(level, attribute(bars, 0, "y"), 0.2, "1/2 hangs down from the line at 1");
        assertEquals(half, attribute(bars, 1, "height"), 0.2, "2 stands as far up as 1/2 down");
        assertEquals(level, attribute(bars, 1, "y") + attribute(bars, 1, "height"), 0.2);
        assertEquals(2 * half, attribute(bars, 2, "height"), 0.2, "4 twice as far");
        assertEquals(3, select(svg, "//line[@class='whisker']").getLength());
        assertEquals("guest->host ours/QEMU-TAP: 0.50 (rounds 0.40-0.70)", select(svg, "//rect[@class='bar']/title").item(0).getTextContent());
    }

    @Test
    void aPanelPerPartAndPinning() throws Exception {
        Charts.RatioPanel one = new Charts.RatioPanel("a", List.of("x"), List.of("r"), List.of(new BenchTable.RatioBar("x", "r", 1, 1, 1)));

        Document svg = parse(Charts.ratios(List.of(one, one)));

        assertEquals(2, select(svg, "//rect[@class='bar']").getLength());
        assertEquals(2, select(svg, "//line[@class='level']").getLength());
    }

    @Test
    void aLinePerSeriesAPointPerFigure() throws Exception {
        Charts.SeriesPanel panel = new Charts.SeriesPanel("stressed", "second", "Mbit/s", List.of(
                new Charts.Series("ours", List.of(new double[] {1, 100}, new double[] {2, 200}, new double[] {3, 0}), 0, 0),
                new Charts.Series("qemu-tap", List.of(new double[] {1, 50}, new double[] {2, 50}), 1, 1)));

        Document svg = parse(Charts.series(List.of(panel)));

        NodeList lines = select(svg, "//polyline[@class='series']");
        assertEquals(2, lines.getLength());
        String[] points = ((Element) lines.item(0)).getAttribute("points").split(" ");
        assertEquals(3, points.length);
        double y100 = Double.parseDouble(points[0].split(",")[1]);
        double y200 = Double.parseDouble(points[1].split(",")[1]);
        double y0 = Double.parseDouble(points[2].split(",")[1]);
        assertEquals(y0 - y100, y100 - y200, 0.2, "y proportional to the figure");
        assertEquals("ours", select(svg, "//polyline/title").item(0).getTextContent());
        assertEquals("", ((Element) lines.item(0)).getAttribute("stroke-dasharray"), "the first pattern is solid");
        assertEquals(Charts.DASHES[1], ((Element) lines.item(1)).getAttribute("stroke-dasharray"));
        assertEquals(2, select(svg, "//line[@class='key']").getLength(), "a key a line, in its colour and pattern");
    }

    @Test
    void textIsEscaped() throws Exception {
        Document svg = parse(new Svg(10, 10).text(0, 0, "start", "a<b & \"c\"").toString());

        assertEquals("a<b & \"c\"", select(svg, "//text").item(0).getTextContent());
    }

    @Test
    void axesEndOnARoundFigure() {
        assertEquals(new Axis(0, 1.4, 0.2), roundAxis(Axis.of(0, 1.3)));
        assertEquals(new Axis(0, 3000, 500), roundAxis(Axis.of(0, 2780)));
    }

    private static Axis roundAxis(Axis axis) {
        return new Axis(axis.low(), Math.round(axis.high() * 1e6) / 1e6, Math.round(axis.step() * 1e6) / 1e6);
    }
}
