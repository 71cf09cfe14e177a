package dev.lowmem.tools.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The statistics blocks of an interactive testpmd's log (tools/scripts/lib/testpmd.sh writes it):
 * "NIC statistics for port N" ({@code show port stats all}: the port's counters since it started)
 * and "Forward statistics for port N" ({@code stop} or {@code show fwd stats all}: since
 * {@code start}; its TX-dropped counts the frames the forwarding engine could not place in a full
 * TX ring). Every "KEY: VALUE" pair of a block is kept, a later block of a port overriding an
 * earlier one, so that a log holding several snapshots gives the last; the "Accumulated forward
 * statistics" block (all ports summed) is left out. The ports come in the order of their first NIC
 * block; a port with forward statistics alone is not one.
 */
public final class TestpmdLog {
    private static final String[] COLUMNS = {"rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_missed",
            "tx_dropped", "rx_errors", "tx_errors", "rx_nombuf"};

    /** A port's last counters: testpmd's names ("RX-packets") to their values. */
    public record Port(String number, Map<String, String> nic, Map<String, String> forward) {
        /** A counter of the NIC block, "0" when the log has none. */
        String nic(String key) {
            return nic.getOrDefault(key, "0");
        }

        /** {@link #COLUMNS}' values in their order: the port's counters, tx_dropped the forward block's. */
        List<String> columns() {
            return List.of(nic("RX-packets"), nic("TX-packets"), nic("RX-bytes"), nic("TX-bytes"), nic("RX-missed"),
                    forward.getOrDefault("TX-dropped", "0"), nic("RX-errors"), nic("TX-errors"), nic("RX-nombuf"));
        }
    }

    private final List<Port> ports;

    private TestpmdLog(List<Port> ports) {
        this.ports = ports;
    }

    public List<Port> ports() {
        return ports;
    }

    public static TestpmdLog parse(String log) {
        Map<String, Map<String, String>> nic = new LinkedHashMap<>();
        Map<String, Map<String, String>> forward = new HashMap<>();
        Map<String, String> block = null;
        for (String line : log.lines().toList()) {
            if (line.contains("Accumulated forward statistics")) {
                block = null;
                continue;
            }
            boolean isForward = line.contains("Forward statistics for port");
            if (isForward || line.contains("NIC statistics for port")) {
                block = (isForward ? forward : nic).computeIfAbsent(portOf(words(line)), port -> new HashMap<>());
                continue;
            }
            if (block != null) {
                // every "KEY:" word takes the word after it: a block's lines hold two or three pairs
                String[] words = words(line);
                for (int i = 0; i < words.length - 1; i++) {
                    if (words[i].endsWith(":")) {
                        block.put(words[i].substring(0, words[i].length() - 1), words[i + 1]);
                    }
                }
            }
        }
        List<Port> ports = new ArrayList<>();
        nic.forEach((port, counters) -> ports.add(new Port(port, counters, forward.getOrDefault(port, Map.of()))));
        return new TestpmdLog(List.copyOf(ports));
    }

    /**
     * The summary line of each port, as the testpmd scripts print them: {@code testpmd role=ROLE
     * port=N [name=NAME] rx_packets=.. tx_packets=.. rx_bytes=.. tx_bytes=.. rx_missed=..
     * tx_dropped=.. rx_errors=.. tx_errors=.. rx_nombuf=.. [EXTRA]}, NAME the Nth of
     * {@code names} (comma-separated, for ports 0, 1, ...).
     *
     * @throws IllegalStateException when the log has no NIC statistics
     */
    public List<String> summary(String role, String extra, String names) {
        if (ports.isEmpty()) {
            throw new IllegalStateException("no port statistics (\"NIC statistics for port\") in testpmd's log");
        }
        List<String> nameList = names.isEmpty() ? List.of() : List.of(names.split(",", -1));
        List<String> lines = new ArrayList<>();
        for (Port port : ports) {
            StringBuilder line = new StringBuilder("testpmd role=").append(role).append(" port=").append(port.number());
            int index = portIndex(port.number());
            if (index >= 0 && index < nameList.size()) {
                line.append(" name=").append(nameList.get(index));
            }
            List<String> values = port.columns();
            for (int i = 0; i < COLUMNS.length; i++) {
                line.append(' ').append(COLUMNS[i]).append('=').append(values.get(i));
            }
            if (!extra.isEmpty()) {
                line.append(' ').append(extra);
            }
            lines.add(line.toString());
        }
        return lines;
    }

    private static int portIndex(String number) {
        try {
            return Integer.parseInt(number);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The word after "port" in a block's title line ("---- Forward statistics for port 0 ----"). */
    private static String portOf(String[] words) {
        String port = "";
        for (int i = 0; i < words.length; i++) {
            if (words[i].equals("port")) {
                port = i + 1 < words.length ? words[i + 1] : "";
            }
        }
        return port;
    }

    private static String[] words(String line) {
        String trimmed = line.replaceFirst("^[ \t]+", "");
        return trimmed.isEmpty() ? new String[0] : trimmed.split("[ \t]+");
    }
}
