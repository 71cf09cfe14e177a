package dev.lowmem.tools.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.devices.net.NetCounter;
import dev.lowmem.devices.net.NetDeviceOptions;
import dev.lowmem.devices.net.QueuePairCounters;
import dev.lowmem.devices.net.VirtioNet;
import dev.lowmem.devices.port.LoopbackPort;
import dev.lowmem.devices.port.Port;
import dev.lowmem.devices.port.SinkPort;
import dev.lowmem.devices.port.SourcePort;
import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.vhostuser.VhostUserBackend;
import dev.lowmem.vmm.core.event.EventLoop;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The generator against our own backend in this JVM, over a real UNIX socket with memfd guest
 * memory: after each run its totals and the device's counters must agree frame for frame and
 * byte for byte, since the run stops the rings before it takes its last count. Nothing here
 * depends on how fast anything went, only that frames moved.
 */
class LoadgenBackendTest {
    /** Enough for many thousands of frames even on a busy machine; no assertion depends on it. */
    private static final Duration RUN = Duration.ofMillis(300);
    private static final Duration WARMUP = Duration.ofMillis(100);
    private static final long AT_LEAST = 2000;

    @TempDir
    Path dir;

    /** Our device on {@code port}, served on a socket in the test's directory. */
    private static final class Backend implements AutoCloseable {
        final Path socket;
        final VirtioNet device;
        private final EventLoop loop;
        private final VhostUserBackend server;

        Backend(Path dir, Port port, NetDeviceOptions options, boolean connect) throws Exception {
            socket = dir.resolve("vnet.sock");
            loop = EventLoop.start("loadgen test");
            device = new VirtioNet(options, port);
            server = connect ? VhostUserBackend.connect(socket, Duration.ofMillis(20), device, loop)
                    : VhostUserBackend.listen(socket, device, loop);
        }

        Backend(Path dir, Port port) throws Exception {
            this(dir, port, NetDeviceOptions.defaults(), false);
        }

        long count(NetCounter counter) {
            long total = 0;
            for (int pair = 0; pair < device.queuePairs(); pair++) {
                total += device.pair(pair).counters().get(counter);
            }
            return total;
        }

        long drops() {
            long total = 0;
            for (int pair = 0; pair < device.queuePairs(); pair++) {
                total += device.pair(pair).counters().drops();
            }
            return total;
        }

        @Override
        public void close() throws Exception {
            server.close();
            loop.close();
            device.close();
        }
    }

    private static LoadSettings settings(Path socket, Mode mode, int size, boolean packed, boolean eventIdx,
            boolean mergeable, int pairs) {
        return new LoadSettings(socket, false, mode, size, RUN, WARMUP, packed, pairs, 32, 256, eventIdx, mergeable);
    }

    private static Result run(LoadSettings settings) throws Exception {
        return LoadRun.run(settings, line -> { });
    }

    @ParameterizedTest(name = "packed={0} eventIdx={1}")
    @CsvSource({"false, true", "false, false", "true, true", "true, false"})
    void everyFrameSentIsOneTheSinkCounted(boolean packed, boolean eventIdx) throws Exception {
        try (Backend backend = new Backend(dir, SinkPort.dropping())) {
            Result result = run(settings(backend.socket, Mode.TX, 64, packed, eventIdx, true, 1));

            Counts totals = result.totals();
            assertTrue(totals.txFrames() >= AT_LEAST, totals.toString());
            assertEquals(0, totals.txInFlight(), "every frame came back");
            assertEquals(backend.count(NetCounter.TX_FRAMES), totals.txFrames());
            assertEquals(backend.count(NetCounter.TX_BYTES), totals.txBytes());
            assertEquals(64 * totals.txFrames(), totals.txBytes());
            assertEquals(0, totals.rxFrames());
            assertEquals(0, backend.drops());
            assertTrue(result.window().txFrames() > 0 && result.window().txFrames() <= totals.txFrames());
            assertEquals(eventIdx, Feature.RING_EVENT_IDX.in(result.plan().features()));
            assertEquals(packed, Feature.RING_PACKED.in(result.plan().features()));
            assertEquals(null, result.problem());
        }
    }

    @ParameterizedTest(name = "packed={0} eventIdx={1}")
    @CsvSource({"false, true", "true, false"})
    void everyFrameTheSourceWroteIsCountedOnce(boolean packed, boolean eventIdx) throws Exception {
        try (Backend backend = new Backend(dir, new SourcePort(64, 1))) {
            Counts totals = run(settings(backend.socket, Mode.RX, 64, packed, eventIdx, true, 1)).totals();

            assertTrue(totals.rxFrames() >= AT_LEAST, totals.toString());
            assertEquals(backend.count(NetCounter.RX_FRAMES), totals.rxFrames());
            assertEquals(backend.count(NetCounter.RX_BYTES), totals.rxBytes());
            assertEquals(64 * totals.rxFrames(), totals.rxBytes());
            assertEquals(0, totals.rxBad());
            assertEquals(0, totals.txPosted());
            assertEquals(0, backend.drops());
        }
    }

    @ParameterizedTest(name = "packed={0} mergeable={1}")
    @CsvSource({"false, true", "false, false", "true, true", "true, false"})
    void whatGoesIntoALoopbackComesBack(boolean packed, boolean mergeable) throws Exception {
        LoopbackPort loopback = new LoopbackPort(1);
        try (Backend backend = new Backend(dir, loopback)) {
            Counts totals = run(settings(backend.socket, Mode.BOTH, 1500, packed, true, mergeable, 1)).totals();

            assertTrue(totals.txFrames() >= AT_LEAST && totals.rxFrames() >= AT_LEAST, totals.toString());
            assertEquals(0, totals.txInFlight());
            assertEquals(backend.count(NetCounter.TX_FRAMES), totals.txFrames());
            assertEquals(backend.count(NetCounter.RX_FRAMES), totals.rxFrames());
            assertEquals(backend.count(NetCounter.RX_BYTES), totals.rxBytes());
            assertEquals(totals.txFrames(), totals.rxFrames() + loopback.queue(0).backlog(),
                    "every frame sent came back or waits in the loopback");
            assertEquals(0, totals.rxBad());
            assertEquals(0, backend.drops());
        }
    }

    @Test
    void framesAboveTheMtuGoAsTsoFramesAndComeBackWhole() throws Exception {
        LoopbackPort loopback = new LoopbackPort(1);
        try (Backend backend = new Backend(dir, loopback)) {
            Result result = run(settings(backend.socket, Mode.BOTH, 9000, false, true, true, 1));

            Counts totals = result.totals();
            assertEquals(FrameKind.TSO4, result.plan().txFrame());
            assertTrue(Feature.NET_HOST_TSO4.in(result.plan().features()));
            assertTrue(Feature.NET_GUEST_TSO4.in(result.plan().features()));
            assertTrue(totals.txFrames() > 0 && totals.rxFrames() > 0, totals.toString());
            assertEquals(backend.count(NetCounter.TX_FRAMES), totals.txFrames());
            assertEquals(backend.count(NetCounter.RX_FRAMES), totals.rxFrames());
            assertEquals(9000 * totals.rxFrames(), totals.rxBytes());
            assertEquals(totals.txFrames(), totals.rxFrames() + loopback.queue(0).backlog());
            assertEquals(0, backend.drops());
        }
    }

    @Test
    void aFrameSpanningMergeableBuffersIsOneFrame() throws Exception {
        NetDeviceOptions jumbo = new NetDeviceOptions(NetDeviceOptions.DEFAULT_MAC, 9000, 1,
                NetDeviceOptions.DEFAULT_POLL_WINDOW);
        try (Backend backend = new Backend(dir, new SourcePort(9000, 1), jumbo, false)) {
            Result result = run(settings(backend.socket, Mode.RX, 64, false, true, true, 1));

            Counts totals = result.totals();
            assertEquals(Plan.MIN_MERGEABLE_BUFFER, result.plan().rxBufferLength(), "5 buffers a frame");
            assertTrue(totals.rxFrames() > 0, totals.toString());
            assertEquals(backend.count(NetCounter.RX_FRAMES), totals.rxFrames());
            assertEquals(backend.count(NetCounter.RX_BYTES), totals.rxBytes());
            assertEquals(9000 * totals.rxFrames(), totals.rxBytes());
            assertEquals(0, totals.rxBad());
            assertEquals(0, backend.drops());
        }
    }

    @Test
    void eachQueuePairHasItsOwnThreadAndTraffic() throws Exception {
        try (Backend backend = new Backend(dir, SinkPort.dropping(), NetDeviceOptions.defaults().withQueuePairs(2), false)) {
            Result result = run(settings(backend.socket, Mode.TX, 64, false, true, true, 2));

            assertEquals(2, result.pairWindows().size());
            for (int pair = 0; pair < 2; pair++) {
                QueuePairCounters counters = backend.device.pair(pair).counters();
                assertTrue(counters.get(NetCounter.TX_FRAMES) > 0, "pair " + pair);
                assertTrue(result.pairWindows().get(pair).txFrames() > 0, "pair " + pair);
            }
            assertEquals(backend.count(NetCounter.TX_FRAMES), result.totals().txFrames());
            assertTrue(Feature.NET_MQ.in(result.plan().features()));
        }
    }

    @Test
    void withServerTheBackendConnectsToUs() throws Exception {
        Path socket = dir.resolve("vnet.sock");
        LoadSettings settings = new LoadSettings(socket, true, Mode.TX, 64, RUN, WARMUP, false, 1, 32, 256, true, true);
        CompletableFuture<Result> running = CompletableFuture.supplyAsync(() -> {
            try {
                return run(settings);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        try (Backend backend = new Backend(dir, SinkPort.dropping(), NetDeviceOptions.defaults(), true)) {
            Counts totals = running.get().totals();

            assertTrue(totals.txFrames() > 0);
            assertEquals(backend.count(NetCounter.TX_FRAMES), totals.txFrames());
        }
    }

    @Test
    void theCommandPrintsItsFiguresAndTheSummaryLine() throws Exception {
        try (Backend backend = new Backend(dir, new LoopbackPort(1))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();

            int status = Loadgen.execute(new String[] {"--socket", backend.socket.toString(), "--mode", "both",
                    "--seconds", "0.5", "--warmup", "0.1", "--packed"},
                    new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));

            String errors = err.toString(StandardCharsets.UTF_8);
            assertEquals(0, status, errors);
            List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
            String summary = lines.getLast();
            assertTrue(summary.startsWith("loadgen mode=both size=64 ring=packed queues=1 seconds=0."), summary);
            Map<String, String> fields = Arrays.stream(summary.substring("loadgen ".length()).split(" "))
                    .map(field -> field.split("=", 2))
                    .collect(Collectors.toMap(pair -> pair[0], pair -> pair[1], (a, b) -> b));
            assertTrue(Long.parseLong(fields.get("tx_frames")) > 0, summary);
            assertTrue(Long.parseLong(fields.get("rx_frames")) > 0, summary);
            assertTrue(Double.parseDouble(fields.get("tx_mpps")) > 0, summary);
            assertTrue(lines.stream().anyMatch(line -> line.startsWith("  tx ") && line.contains(" Mpps ")), lines.toString());
            assertTrue(errors.contains("loadgen: negotiated: "), errors);
            assertTrue(errors.lines().anyMatch(line -> line.matches("loadgen: +0\\.\\d\\d s  tx .*")), errors);
        }
    }

    @Test
    void morePairsThanTheBackendServesIsOneLineAndStatusOne() throws Exception {
        try (Backend backend = new Backend(dir, SinkPort.dropping())) {
            ByteArrayOutputStream err = new ByteArrayOutputStream();

            int status = Loadgen.execute(new String[] {"--socket", backend.socket.toString(), "--queues", "2"},
                    System.out, new PrintStream(err, true, StandardCharsets.UTF_8));

            String errors = err.toString(StandardCharsets.UTF_8);
            assertEquals(1, status, errors);
            assertTrue(errors.lines().anyMatch(line -> line.startsWith("loadgen: --queues 2: that needs NET_MQ,")),
                    errors);
        }
    }
}
