package dev.lowmem.tools.loadgen;

import dev.lowmem.tools.OptionChecks;
import dev.lowmem.virtio.queue.QueueLayout;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The command line of {@code loadgen}, as picocli fills it in; {@link #settings()} checks the
 * values together and names the option and the value it refuses.
 */
@Command(name = "loadgen", sortOptions = false, usageHelpAutoWidth = true, optionListHeading = "%nOptions:%n",
        description = {
            "Drives a vhost-user virtio-net backend's rings at full speed, as a guest's driver would, and measures"
                + " what moves: our own vhost-user front-end, with its guest memory in a memfd.",
            "",
            "tx puts frames on the device's TX queue (queue 1) for the backend to consume (vhost-user-net --sink,"
                + " testpmd rxonly); rx posts buffers on its RX queue (queue 0) and counts the frames the backend"
                + " writes (vhost-user-net --source SIZE, testpmd txonly); both does both at once (vhost-user-net"
                + " --loopback, testpmd io).",
            "",
            "TX frames are broadcast Ethernet frames of EtherType 0x88B5 carrying a sequence number after the"
                + " Ethernet header, behind a zeroed virtio_net_hdr. Frames longer than the device's MTU + 14 go out"
                + " as TCP/IPv4 TSO frames (gso_size MTU - 40), which needs NET_CSUM and NET_HOST_TSO4 on offer."
                + " RX takes any size: with NET_MRG_RXBUF a frame spans as many buffers as it needs, without it"
                + " every buffer holds the largest frame the device may write.",
            "",
            "Standard output: per direction Mpps and Gbit/s, where Gbit/s counts Ethernet frame bytes (no"
                + " virtio-net header, FCS, preamble or gap), then one summary line for scripts:",
            "  loadgen mode=tx size=64 ring=split queues=1 seconds=10.00 tx_frames=N tx_mpps=X tx_gbps=X"
                + " rx_frames=N rx_mpps=X rx_gbps=X ...",
            "Standard error: what was negotiated, and a line a second while measuring."},
        footer = {
            "",
            "Examples:",
            "  tools/bin/vhost-user-net --socket /tmp/vnet.sock --sink &",
            "  tools/bin/loadgen --socket /tmp/vnet.sock --mode tx --size 64 --seconds 10",
            "  tools/scripts/testpmd-vhost-backend --socket /tmp/vh.sock --mode io &",
            "  tools/bin/loadgen --socket /tmp/vh.sock --mode both --size 1500 --packed",
            "",
            "Exit status: 0 after a run or --help, 1 when the backend cannot be reached or cannot serve the run"
                + " asked, 2 for a bad option."})
final class LoadgenOptions {
    static final int MIN_FRAME = 64;
    static final int MAX_FRAME = 65536;
    static final int MAX_QUEUE_PAIRS = 256;
    static final long MAX_SECONDS = 86_400;

    @Spec
    private CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    private boolean help;

    @Option(names = "--socket", required = true, paramLabel = "PATH",
            description = "The backend's vhost-user socket: connected to, or with --server listened on.")
    private Path socket;

    @Option(names = "--server", description = "Listen on PATH and wait for the backend to connect"
            + " (vhost-user-net --client, testpmd-vhost-backend --client), instead of connecting.")
    private boolean server;

    @Option(names = "--mode", paramLabel = "MODE", description = "tx, rx or both (default: ${DEFAULT-VALUE}).")
    private Mode mode = Mode.TX;

    @Option(names = "--size", paramLabel = "BYTES", description = "Ethernet frame length without the virtio-net"
            + " header and FCS, " + MIN_FRAME + " to " + MAX_FRAME + " (default: ${DEFAULT-VALUE}). What TX sends;"
            + " on RX the backend chooses, and this only sizes the mergeable buffers.")
    private int size = 64;

    @Option(names = "--seconds", paramLabel = "SECONDS", description = "How long to measure, after the warm-up"
            + " (default: ${DEFAULT-VALUE}; decimals allowed).")
    private BigDecimal seconds = BigDecimal.TEN;

    @Option(names = "--warmup", paramLabel = "SECONDS", description = "How long to run before measuring"
            + " (default: ${DEFAULT-VALUE}; decimals allowed).")
    private BigDecimal warmup = BigDecimal.ONE;

    @Option(names = "--packed", description = "Packed rings (RING_PACKED) instead of split ones.")
    private boolean packed;

    @Option(names = "--queues", paramLabel = "N", description = "Queue pairs, each driven by a thread of its own"
            + " (default: ${DEFAULT-VALUE}); more than one needs NET_MQ on offer.")
    private int queues = 1;

    @Option(names = "--burst", paramLabel = "N", description = "The most TX frames posted with one avail index store;"
            + " RX buffers are posted again once this many (or an eighth of the ring) are free"
            + " (default: ${DEFAULT-VALUE}).")
    private int burst = 32;

    @Option(names = "--queue-size", paramLabel = "N", description = "Entries in each ring, a power of two up to "
            + QueueLayout.MAX_SIZE + " (default: ${DEFAULT-VALUE}).")
    private int queueSize = 256;

    @Option(names = "--no-event-idx", description = "Refuse RING_EVENT_IDX: suppress notifications with the"
            + " rings' flags instead.")
    private boolean noEventIdx;

    @Option(names = "--no-mrg-rxbuf", description = "Refuse NET_MRG_RXBUF: every RX buffer holds a whole frame.")
    private boolean noMergeable;

    /** The options checked together. */
    LoadSettings settings() {
        checks().socketPath("--socket", socket);
        checks().range("--size", size, MIN_FRAME, MAX_FRAME);
        checks().range("--queues", queues, 1, MAX_QUEUE_PAIRS);
        if (!QueueLayout.isValidSize(queueSize) || queueSize < 2) {
            throw checks().invalid("--queue-size", queueSize + " is not a power of two from 2 to " + QueueLayout.MAX_SIZE);
        }
        checks().range("--burst", burst, 1, queueSize);
        Duration duration = seconds("--seconds", seconds);
        if (duration.isZero()) {
            throw checks().invalid("--seconds", seconds + " measures nothing; give more than 0");
        }
        return new LoadSettings(socket, server, mode, size, duration, seconds("--warmup", warmup), packed, queues,
                burst, queueSize, !noEventIdx, !noMergeable);
    }

    private Duration seconds(String option, BigDecimal value) {
        if (value.signum() < 0 || value.compareTo(BigDecimal.valueOf(MAX_SECONDS)) > 0) {
            throw checks().invalid(option, value.toPlainString() + " is outside 0.." + MAX_SECONDS);
        }
        return Duration.ofNanos(value.movePointRight(9).longValue());
    }

    private OptionChecks checks() {
        return new OptionChecks(spec);
    }
}
