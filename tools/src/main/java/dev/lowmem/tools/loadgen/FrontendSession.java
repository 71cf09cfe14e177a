package dev.lowmem.tools.loadgen;

import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import dev.lowmem.virtio.queue.PackedDeviceQueue;
import dev.lowmem.virtio.queue.QueueLayout;
import dev.lowmem.virtio.vhostuser.FrontendMemory;
import dev.lowmem.virtio.vhostuser.FrontendQueue;
import dev.lowmem.virtio.vhostuser.ProtocolFeature;
import dev.lowmem.virtio.vhostuser.VhostUserException;
import dev.lowmem.virtio.vhostuser.VhostUserFrontend;
import dev.lowmem.vmm.core.memory.InvalidMemoryTableException;
import dev.lowmem.vmm.core.socket.UnixServerSocket;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The control plane of a run, in QEMU's part: the connection to the backend, the negotiation,
 * the guest memory (one memfd) and the rings of every queue pair, handed over in QEMU's order;
 * at the end each ring is stopped with GET_VRING_BASE, as QEMU stops a device.
 */
final class FrontendSession implements AutoCloseable {
    /** How long a connecting run waits for the backend's socket to appear and accept. */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    static final long PROTOCOL_FEATURES = ProtocolFeature.of(ProtocolFeature.MQ, ProtocolFeature.REPLY_ACK,
            ProtocolFeature.CONFIG);
    /** virtio_net_config (virtio 1.2, 5.1.4): mac[6], status, max_virtqueue_pairs, mtu. */
    static final int CONFIG_SIZE = 12;
    static final int MAX_VIRTQUEUE_PAIRS_OFFSET = 8;
    static final int MTU_OFFSET = 10;

    private final LoadSettings settings;
    private final UnixServerSocket listener;
    private final VhostUserFrontend frontend;
    private final List<FrontendQueue> queues = new ArrayList<>();
    private DeviceOffer offer;
    private Plan plan;
    private GuestLayout layout;
    private FrontendMemory memory;

    private FrontendSession(LoadSettings settings, UnixServerSocket listener, VhostUserFrontend frontend) {
        this.settings = settings;
        this.listener = listener;
        this.frontend = frontend;
    }

    /**
     * Connects to the backend (or with {@code --server} waits for it), negotiates, and sets up the
     * memory and the rings, which stay disabled until {@link #enableRings()}.
     */
    static FrontendSession open(LoadSettings settings, Consumer<String> log) throws LoadgenException,
            InterruptedException {
        FrontendSession session = connect(settings, log);
        try {
            session.negotiate(log);
            session.createRings();
            return session;
        } catch (IOException | VhostUserException | InvalidMemoryTableException e) {
            session.close();
            throw new LoadgenException("backend at " + settings.socket() + ": " + e.getMessage(), e);
        } catch (LoadgenException | RuntimeException | Error e) {
            session.close();
            throw e;
        }
    }

    private static FrontendSession connect(LoadSettings settings, Consumer<String> log) throws LoadgenException,
            InterruptedException {
        if (!settings.server()) {
            try {
                return new FrontendSession(settings, null, VhostUserFrontend.connect(settings.socket(),
                        CONNECT_TIMEOUT));
            } catch (IOException e) {
                throw new LoadgenException(e.getMessage(), e);
            }
        }
        UnixServerSocket listener;
        try {
            listener = UnixServerSocket.listen(settings.socket());
        } catch (IOException e) {
            throw new LoadgenException("cannot listen on " + settings.socket() + ": " + e.getMessage(), e);
        }
        try {
            log.accept("listening on " + settings.socket() + " for the backend to connect");
            return new FrontendSession(settings, listener, VhostUserFrontend.over(listener.accept()));
        } catch (IOException | RuntimeException e) {
            closeQuietly(listener);
            throw new LoadgenException("waiting on " + settings.socket() + " for the backend: " + e.getMessage(), e);
        }
    }

    private void negotiate(Consumer<String> log) throws IOException, VhostUserException, LoadgenException {
        frontend.setOwner();
        long offered = frontend.getFeatures();
        long protocol = 0;
        if (Feature.VHOST_USER_PROTOCOL_FEATURES.in(offered)) {
            protocol = frontend.getProtocolFeatures() & PROTOCOL_FEATURES;
            frontend.setProtocolFeatures(protocol);
        }
        offer = readOffer(offered, protocol);
        plan = Plan.choose(settings, offer);
        frontend.setFeatures(plan.features());
        log.accept("offered: " + Features.describe(offered)
                + (offer.mtu() > 0 ? ", MTU " + offer.mtu() : "") + ", " + offer.maxQueuePairs()
                + (offer.maxQueuePairs() == 1 ? " queue pair" : " queue pairs"));
        log.accept("negotiated: " + Features.describe(plan.features()) + "; protocol: "
                + ProtocolFeature.describe(protocol));
    }

    /** The MTU and the queue pairs, from the config space when the backend serves it. */
    private DeviceOffer readOffer(long offered, long protocol) throws IOException, VhostUserException {
        int mtu = 0;
        int pairs = 1;
        boolean multiqueue = Feature.NET_MQ.in(offered);
        boolean configRead = false;
        if (ProtocolFeature.CONFIG.in(protocol)) {
            try {
                ByteBuffer config = ByteBuffer.wrap(frontend.getConfig(0, CONFIG_SIZE)).order(ByteOrder.LITTLE_ENDIAN);
                configRead = true;
                if (Feature.NET_MTU.in(offered)) {
                    mtu = config.getShort(MTU_OFFSET) & 0xFFFF;
                }
                if (multiqueue) {
                    pairs = Math.max(1, config.getShort(MAX_VIRTQUEUE_PAIRS_OFFSET) & 0xFFFF);
                }
            } catch (VhostUserException refused) {
                // An empty reply: the backend keeps its config space to itself. Defaults, then.
            }
        }
        if (multiqueue && !configRead && ProtocolFeature.MQ.in(protocol)) {
            // As DPDK answers it: queue pairs.
            pairs = (int) Math.min(Integer.MAX_VALUE, Math.max(1, frontend.getQueueNum()));
        }
        return new DeviceOffer(offered, mtu, pairs);
    }

    private void createRings() throws IOException, VhostUserException, InvalidMemoryTableException {
        layout = GuestLayout.of(plan, settings.mode(), settings.queueSize(), settings.queuePairs());
        memory = FrontendMemory.create("loadgen", layout.size());
        frontend.setMemTable(memory.regions(1));
        int ringBase = QueueLayout.of(plan.features()) == QueueLayout.PACKED ? PackedDeviceQueue.INITIAL_RING_BASE : 0;
        for (int pair = 0; pair < settings.queuePairs(); pair++) {
            FrontendQueue rx = FrontendQueue.create(memory, layout.rxRings(pair), plan.features(), settings.queueSize());
            queues.add(rx);
            FrontendQueue tx = FrontendQueue.create(memory, layout.txRings(pair), plan.features(), settings.queueSize());
            queues.add(tx);
            rx.setUp(frontend, 2 * pair, ringBase);
            tx.setUp(frontend, 2 * pair + 1, ringBase);
        }
    }

    /** Makes the datapath of queue pair {@code pair}; its rings are zeroed and not enabled yet. */
    PairGenerator generator(int pair) {
        MemorySegment txSlots = layout.txSlotsBytes() > 0
                ? memory.bytes(layout.txSlots(pair), layout.txSlotsBytes()) : MemorySegment.NULL;
        MemorySegment rxBuffers = layout.rxBuffersBytes() > 0
                ? memory.bytes(layout.rxBuffers(pair), layout.rxBuffersBytes()) : MemorySegment.NULL;
        return new PairGenerator(pair, plan, settings.mode(), settings.burst(), queues.get(2 * pair),
                queues.get(2 * pair + 1), txSlots, layout.txSlots(pair), rxBuffers, layout.rxBuffers(pair),
                settings.frameSize());
    }

    /** Lets the backend run the rings (with protocol features, rings start disabled). */
    void enableRings() throws LoadgenException {
        if (!Feature.VHOST_USER_PROTOCOL_FEATURES.in(plan.features())) {
            return;
        }
        try {
            for (int index = 0; index < queues.size(); index++) {
                frontend.setVringEnable(index, true);
            }
        } catch (IOException | VhostUserException e) {
            throw new LoadgenException("backend at " + settings.socket() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Stops every ring (GET_VRING_BASE): afterwards the backend touches none of them, and what it
     * returned is all it will.
     */
    void stopRings() throws LoadgenException {
        try {
            for (int index = 0; index < queues.size(); index++) {
                frontend.getVringBase(index);
            }
        } catch (IOException | VhostUserException e) {
            throw new LoadgenException("stopping the rings of the backend at " + settings.socket() + ": "
                    + e.getMessage(), e);
        }
    }

    Plan plan() {
        return plan;
    }

    DeviceOffer offer() {
        return offer;
    }

    @Override
    public void close() {
        frontend.close();
        for (FrontendQueue queue : queues) {
            queue.close();
        }
        if (memory != null) {
            memory.close();
        }
        if (listener != null) {
            closeQuietly(listener);
        }
    }

    private static void closeQuietly(UnixServerSocket listener) {
        try {
            listener.close();
        } catch (IOException e) {
            // The socket file stays behind; the next listener replaces a stale one.
        }
    }
}
