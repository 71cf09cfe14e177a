package dev.lowmem.devices.port;

import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.tap.TapDevice;
import dev.lowmem.vmm.core.tap.TunOffload;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * A TAP interface as the guest's port to the host: what the guest transmits, the host's network
 * stack receives on the TAP, and what the host sends out of the TAP, the guest receives. Each
 * queue pair has its own fd of a multi-queue TAP; every frame crosses with its vnet header, which
 * the kernel reads and writes as the guest's {@code virtio_net_hdr}, so offloads pass through.
 */
public final class TapPort implements Port {
    /**
     * A TAP takes frames written to it with a partial checksum or as one large TCP or UDP packet
     * and finishes or segments them itself, whatever its TUN_F flags say: the guest may send all.
     */
    private static final long HOST_OFFLOADS = Features.of(Feature.NET_CSUM,
            Feature.NET_HOST_TSO4, Feature.NET_HOST_TSO6, Feature.NET_HOST_ECN, Feature.NET_HOST_UFO);
    /** The TUN_F flag that lets the TAP hand the guest the frames each GUEST_* feature allows. */
    private static final Map<Feature, TunOffload> GUEST_OFFLOADS = Map.of(
            Feature.NET_GUEST_CSUM, TunOffload.CSUM,
            Feature.NET_GUEST_TSO4, TunOffload.TSO4,
            Feature.NET_GUEST_TSO6, TunOffload.TSO6,
            Feature.NET_GUEST_ECN, TunOffload.TSO_ECN,
            Feature.NET_GUEST_UFO, TunOffload.UFO);

    private final TapDevice tap;
    private final long offloadFeatures;
    private final TapQueue[] queues;

    private TapPort(TapDevice tap, Set<TunOffload> kernelOffloads) {
        this.tap = tap;
        this.offloadFeatures = HOST_OFFLOADS | guestFeatures(kernelOffloads);
        this.queues = new TapQueue[tap.queueCount()];
        FileDescriptor[] fds = new FileDescriptor[queues.length];
        for (int pair = 0; pair < fds.length; pair++) {
            fds[pair] = tap.queue(pair);
        }
        // Freed by the garbage collector, not by close: a worker still in readv must not write to freed memory.
        Arena scratch = Arena.ofAuto();
        for (int pair = 0; pair < queues.length; pair++) {
            MemorySegment head = fds.length > 1 ? scratch.allocate(FlowHash.HEAD) : null;
            queues[pair] = new TapQueue(tap.name(), fds[pair], scratch.allocate(1), fds, head);
        }
    }

    /**
     * Opens TAP {@code name} with one queue per pair, creating it if it does not exist, and asks
     * the kernel which offloads it can hand over.
     *
     * @param name the interface's name (at most 15 bytes), or a pattern like "tap%d"
     */
    public static TapPort open(String name, int queuePairs) throws IOException {
        TapDevice tap = TapDevice.open(name, queuePairs);
        try {
            return new TapPort(tap, tap.probeOffloads());
        } catch (IOException | RuntimeException e) {
            tap.close();
            throw e;
        }
    }

    private static long guestFeatures(Set<TunOffload> kernelOffloads) {
        long features = 0;
        for (Map.Entry<Feature, TunOffload> entry : GUEST_OFFLOADS.entrySet()) {
            if (kernelOffloads.contains(entry.getValue())) {
                features |= entry.getKey().mask();
            }
        }
        return features;
    }

    /** The interface's name, as the kernel gave it. */
    public String interfaceName() {
        return tap.name();
    }

    @Override
    public String describe() {
        return "tap " + tap.name();
    }

    @Override
    public long offloadFeatures() {
        return offloadFeatures;
    }

    @Override
    public int maxQueuePairs() {
        return queues.length;
    }

    /**
     * Sets the TAP's vnet header to the driver's size and its offloads to the GUEST_* features
     * the driver took: the kernel then hands over partial checksums and large packets exactly
     * when the guest can take them, and finishes the rest itself.
     */
    @Override
    public void negotiated(long features, int headerSize) throws IOException {
        tap.setVnetHeaderSize(headerSize);
        EnumSet<TunOffload> offloads = EnumSet.noneOf(TunOffload.class);
        GUEST_OFFLOADS.forEach((feature, offload) -> {
            if (feature.in(features)) {
                offloads.add(offload);
            }
        });
        tap.setOffloads(offloads);
    }

    /** Only attached queues get the host's frames (TUNSETQUEUE): the pairs beyond {@code pairs} are detached. */
    @Override
    public void receivingPairs(int pairs) throws IOException {
        for (int pair = 0; pair < queues.length; pair++) {
            tap.setQueueAttached(pair, pair < pairs);
        }
    }

    /** Whether pair {@code pair}'s TAP queue gets the host's frames (see {@link #receivingPairs}). */
    public boolean receives(int pair) {
        return tap.queueAttached(pair);
    }

    /**
     * The interface's {@code tx_dropped}: the kernel counts there the frames the host sent out of
     * the TAP that found its queue full (tun_net_xmit), which is where they pile up while RX holds
     * back. 0 when the count cannot be read (the interface is gone).
     */
    @Override
    public long hostDrops() {
        try {
            return Long.parseLong(Files.readString(Path.of("/sys/class/net", tap.name(), "statistics/tx_dropped")).strip());
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    @Override
    public PortQueue queue(int pair) {
        if (pair < 0 || pair >= queues.length) {
            throw new IndexOutOfBoundsException(describe() + " has queue pairs 0.." + (queues.length - 1) + ", not " + pair);
        }
        return queues[pair];
    }

    /** Closes every queue's fd; a TAP this port created goes away with them. */
    @Override
    public void close() {
        tap.close();
    }
}
