package dev.lowmem.tools.vhostusernet;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * A snapshot as Prometheus metrics: one metric family for each {@link StatsValue}, a sample per
 * part that has it. Names are {@code vhost_user_net_} and the JSON key, switch ports' with {@code
 * switch_port_} before it; a key in nanoseconds or milliseconds becomes seconds ({@code
 * rx_starved_ns} is {@code vhost_user_net_rx_starved_seconds_total}), and a counter's name ends
 * in {@code _total}, as Prometheus's naming conventions ask. Labels: {@code queue_pair} on a
 * pair's samples, {@code device} (its socket) on a device's and its pairs' with {@code --switch},
 * {@code port} (its index) and {@code name} on a switch port's. A value the JVM does not count
 * (a worker's allocation, -1) has no sample.
 */
final class PrometheusStats {
    static final String PREFIX = "vhost_user_net_";
    static final String SWITCH_PORT_PREFIX = "switch_port_";

    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

    /** The content type of what {@link #write} writes (the text format 0.0.4). */
    String contentType() {
        return writer.getContentType();
    }

    /** Writes {@code snapshot} to {@code out} in the Prometheus text format. */
    void write(StatsSnapshot snapshot, OutputStream out) throws IOException {
        writer.write(out, metrics(snapshot));
    }

    /**
     * A metric's name without the {@code _total} the text format adds to a counter's, and what its
     * values are divided by to be in base units (a division: 9 ms is 0.009 s, where 9 * 1e-3 is not).
     */
    record MetricName(String name, double divisor, Unit unit) {

        static MetricName of(String prefix, String key) {
            String name = PREFIX + prefix + key;
            if (key.endsWith("_ns")) {
                return new MetricName(secondsFor(name, "_ns"), 1e9, Unit.SECONDS);
            }
            if (key.endsWith("_ms")) {
                return new MetricName(secondsFor(name, "_ms"), 1e3, Unit.SECONDS);
            }
            return new MetricName(name, 1, key.endsWith("_bytes") ? Unit.BYTES : null);
        }

        private static String secondsFor(String name, String suffix) {
            return name.substring(0, name.length() - suffix.length()) + "_seconds";
        }
    }

    static MetricSnapshots metrics(StatsSnapshot snapshot) {
        List<MetricSnapshot> metrics = new ArrayList<>();
        add(metrics, "", StatsValue.GC, List.of(new Sample<>(snapshot.gc(), Labels.EMPTY)));
        add(metrics, "", StatsValue.POOL, List.of(new Sample<>(snapshot.pool(), Labels.EMPTY)));
        List<Sample<DeviceStats>> devices = new ArrayList<>();
        List<Sample<PairStats>> pairs = new ArrayList<>();
        for (DeviceStats device : snapshot.devices()) {
            Labels labels = device.name() == null ? Labels.EMPTY : Labels.of("device", device.name());
            devices.add(new Sample<>(device, labels));
            for (PairStats pair : device.pairs()) {
                pairs.add(new Sample<>(pair, labels.add("queue_pair", Integer.toString(pair.pair()))));
            }
        }
        add(metrics, "", StatsValue.DEVICE, devices);
        add(metrics, "", StatsValue.PAIR, pairs);
        add(metrics, SWITCH_PORT_PREFIX, StatsValue.SWITCH_PORT, snapshot.switchPorts().stream()
                .map(port -> new Sample<>(port, Labels.of("port", Integer.toString(port.port()), "name", port.name())))
                .toList());
        return new MetricSnapshots(metrics);
    }

    /** A part of the snapshot and the labels of its samples. */
    private record Sample<T>(T part, Labels labels) {
    }

    /** A family for each of {@code values}, with a sample from each part that has it; none for no sample. */
    private static <T> void add(List<MetricSnapshot> metrics, String prefix, List<StatsValue<T>> values,
            List<Sample<T>> samples) {
        if (samples.isEmpty()) {
            // No switch: no switch port families.
            return;
        }
        for (StatsValue<T> value : values) {
            MetricName name = MetricName.of(prefix, value.key());
            String help = name.divisor() == 1 ? value.help() : value.help() + " (here in seconds)";
            if (value.counter()) {
                CounterSnapshot.Builder family = CounterSnapshot.builder().name(name.name()).help(help)
                        .unit(name.unit());
                for (Sample<T> sample : samples) {
                    long read = value.of(sample.part());
                    if (read >= 0) {
                        family.dataPoint(CounterDataPointSnapshot.builder().labels(sample.labels())
                                .value(read / name.divisor()).build());
                    }
                }
                metrics.add(family.build());
            } else {
                GaugeSnapshot.Builder family = GaugeSnapshot.builder().name(name.name()).help(help)
                        .unit(name.unit());
                for (Sample<T> sample : samples) {
                    family.dataPoint(GaugeDataPointSnapshot.builder().labels(sample.labels())
                            .value(value.of(sample.part()) / name.divisor()).build());
                }
                metrics.add(family.build());
            }
        }
    }
}
