package dev.lowmem.virtio.vhostuser;

import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.FeatureNegotiationException;
import dev.lowmem.virtio.Features;
import dev.lowmem.virtio.device.ActiveQueue;
import dev.lowmem.virtio.device.ActiveQueue.Notifier;
import dev.lowmem.virtio.device.VirtioDevice;
import dev.lowmem.virtio.queue.DeviceQueue;
import dev.lowmem.virtio.queue.InvalidQueueException;
import dev.lowmem.virtio.queue.QueueConfig;
import dev.lowmem.virtio.queue.QueueLayout;
import dev.lowmem.vmm.core.event.EventFd;
import dev.lowmem.vmm.core.event.Signal;
import dev.lowmem.vmm.core.memory.DirtyLog;
import dev.lowmem.vmm.core.memory.GuestMemory;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import dev.lowmem.vmm.core.socket.UnixSocket;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * What one session's requests act on, and the rules they act by: the negotiated features, the
 * device status, the memory table and every ring's lifecycle. {@link BackendSession} decodes a
 * request and calls the method named after it here; a method that refuses throws
 * {@link VhostUserException} and leaves the state as it was, or says in the message what it
 * changed. This is rust-vmm's split of a back-end: the request handler apart from the device
 * state. Control-plane state: one thread only.
 */
final class BackendState implements AutoCloseable {
    /** What this back-end speaks of the protocol extensions; RARP too when the device can announce. */
    static final long PROTOCOL_FEATURES = ProtocolFeature.of(ProtocolFeature.MQ, ProtocolFeature.LOG_SHMFD,
            ProtocolFeature.REPLY_ACK, ProtocolFeature.CONFIG, ProtocolFeature.STATUS, ProtocolFeature.CONFIGURE_MEM_SLOTS,
            ProtocolFeature.INFLIGHT_SHMFD, ProtocolFeature.BACKEND_REQ);
    /** The bits of the feature word that are vhost's, not the device's: never shown to the device. */
    private static final long VHOST_FEATURES = Feature.VHOST_USER_PROTOCOL_FEATURES.mask() | Feature.VHOST_LOG_ALL.mask();
    /**
     * {@code -Dlowmem.vhost.dirtyLog=false} offers neither VHOST_F_LOG_ALL nor LOG_SHMFD, as this
     * back-end was before it logged: the guest tests show with it that QEMU then refuses to migrate.
     */
    private static final boolean OFFER_LOGGING = !"false".equals(System.getProperty("lowmem.vhost.dirtyLog"));
    private static final long NOT_OFFERED = OFFER_LOGGING ? 0 : Feature.VHOST_LOG_ALL.mask();
    private static final long PROTOCOL_NOT_OFFERED = OFFER_LOGGING ? 0 : ProtocolFeature.LOG_SHMFD.mask();
    /** The device status bit that says the device stopped working and awaits a reset (virtio 1.2, 2.1). */
    static final int DEVICE_NEEDS_RESET = 0x40;

    private static final System.Logger LOG = System.getLogger(BackendState.class.getName());
    private static final int STATUS_MASK = 0xFF;

    private final String name;
    private final VirtioDevice device;
    private final long offeredFeatures;
    private final Vring[] vrings;
    private final MemoryTable memoryTable;
    private long ackedFeatures;
    private long protocolFeatures;
    private int status;
    /** A ring faulted and has stopped since the driver last reset the device. */
    private boolean faultedSinceReset;
    /** The dirty-page log SET_LOG_BASE mapped, or null; marked only while VHOST_F_LOG_ALL is acked. */
    private DirtyLog dirtyLog;
    /** The inflight buffer SET_INFLIGHT_FD mapped, or null: the rings then track nothing. */
    private InflightRegion inflight;
    /** The channel SET_BACKEND_REQ_FD gave, or null: a fault is then told by the err eventfd alone. */
    private BackendChannel backendChannel;
    /** Told, on the worker's thread, of the ring that faulted; hands it to {@link #reportFault}. */
    private final IntConsumer queueFaults;

    /**
     * @param queueFaults called on a worker's thread with the index of a ring that faulted; it must
     *                    not block, and should have the control plane call {@link #reportFault}
     */
    BackendState(String name, VirtioDevice device, IntConsumer queueFaults) {
        this.name = name;
        this.device = device;
        this.queueFaults = queueFaults;
        this.offeredFeatures = (device.deviceFeatures() | VHOST_FEATURES) & ~NOT_OFFERED;
        this.memoryTable = new MemoryTable(name);
        this.vrings = new Vring[device.maxQueues()];
        for (int i = 0; i < vrings.length; i++) {
            vrings[i] = new Vring(i);
        }
    }

    long protocolFeatures() {
        return protocolFeatures;
    }

    // ---- features ----

    long getFeatures() {
        return offeredFeatures;
    }

    void setFeatures(long features) throws VhostUserException {
        Vring running = runningRing();
        if (running != null) {
            long logAll = Feature.VHOST_LOG_ALL.mask();
            if ((features & ~logAll) == (ackedFeatures & ~logAll)) {
                // QEMU keeps a vhost device per queue pair on one connection, and each sends its
                // SET_FEATURES when it starts, while the rings of the pairs before it run: the same
                // features again change nothing (DPDK accepts them too). VHOST_F_LOG_ALL alone may
                // change on running rings: QEMU turns logging on and off around a migration
                // without stopping the device. Any other change is refused.
                setLogAll(features);
                return;
            }
            throw new VhostUserException("SET_FEATURES while ring " + running.index
                    + " runs; stop it with GET_VRING_BASE first");
        }
        try {
            Features.accept(offeredFeatures, features);
            device.acknowledgeFeatures(features & ~VHOST_FEATURES);
        } catch (FeatureNegotiationException e) {
            throw new VhostUserException("SET_FEATURES " + Features.describe(features) + ": " + e.getMessage(), e);
        }
        ackedFeatures = features;
        LOG.log(System.Logger.Level.INFO, name + ": features " + Features.describe(features));
    }

    /** Turns VHOST_F_LOG_ALL on or off on running rings. */
    private void setLogAll(long features) {
        if (features == ackedFeatures) {
            return;
        }
        ackedFeatures = features;
        LOG.log(System.Logger.Level.INFO, name + ": dirty-page logging " + (loggingOn() ? "on" : "off")
                + (Feature.VHOST_LOG_ALL.in(features) && dirtyLog == null ? " once SET_LOG_BASE gives a log" : ""));
        updateWriteLogs();
    }

    // ---- dirty-page logging (live migration) ----

    /** Whether writes into guest memory are marked now: VHOST_F_LOG_ALL acked and a log mapped. */
    private boolean loggingOn() {
        return Feature.VHOST_LOG_ALL.in(ackedFeatures) && dirtyLog != null;
    }

    /**
     * SET_LOG_BASE: maps the log {@code size} bytes from {@code offset} of the fd that came with
     * it, in place of an earlier one. The running rings move to the new log each under its access
     * lock, and the old one is unmapped after, when no burst can be marking it.
     */
    void setLogBase(long size, long offset, Deque<FileDescriptor> fds) throws VhostUserException, NativeIoException {
        requireProtocolFeature(ProtocolFeature.LOG_SHMFD, "SET_LOG_BASE");
        DirtyLog next;
        try {
            next = DirtyLog.map(fds.getFirst(), size, offset);
        } catch (IllegalArgumentException e) {
            throw new VhostUserException("SET_LOG_BASE: " + e.getMessage(), e);
        }
        // The fd is closed with the message's: the mapping outlives it.
        DirtyLog previous = dirtyLog;
        dirtyLog = next;
        updateWriteLogs();
        if (previous != null) {
            previous.close();
        }
        LOG.log(System.Logger.Level.INFO, name + ": dirty-page log of 0x" + Long.toHexString(size) + " bytes ("
                + next.pages() + " pages)" + (previous != null ? ", replacing the earlier one" : ""));
    }

    /**
     * SET_LOG_FD: an eventfd to tell the front-end the log changed, which the spec makes optional
     * and QEMU never sends to a vhost-user back-end; taken and closed.
     */
    void setLogFd() {
        LOG.log(System.Logger.Level.INFO, name + ": SET_LOG_FD: the back-end does not signal log changes; fd closed");
    }

    /** Gives every running ring the log it marks now, under each ring's access lock. */
    private void updateWriteLogs() {
        for (Vring vring : vrings) {
            if (vring.running()) {
                vring.active().setWriteLog(loggingOn() ? dirtyLog : null, deviceAreaLogAddr(vring));
            }
        }
    }

    /** The used ring's (packed: device event area's) address in the log: log_guest_addr with VHOST_VRING_F_LOG, else -1. */
    private static long deviceAreaLogAddr(Vring vring) {
        VringAddress address = vring.address;
        return address != null && (address.flags() & VringAddress.F_LOG) != 0 ? address.log() : -1;
    }

    long getProtocolFeatures() {
        return (PROTOCOL_FEATURES | (device.canAnnounce() ? ProtocolFeature.RARP.mask() : 0)) & ~PROTOCOL_NOT_OFFERED;
    }

    // ---- inflight I/O tracking ----

    /**
     * GET_INFLIGHT_FD: a zeroed buffer for {@code num_queues} queues of {@code queue_size} in the
     * layout negotiated so far (QEMU asks after SET_FEATURES), as a memfd for the front-end to
     * keep and hand back with SET_INFLIGHT_FD, to this back-end or to the next after a crash.
     * QEMU asks for one for vhost-user-blk and -scsi only (hw/block/vhost-user-blk.c,
     * hw/scsi/vhost-scsi-common.c); its virtio-net never does, and protects its guest across a
     * back-end's crash by setting each ring's last_avail_idx back to its used index
     * (hw/virtio/vhost.c, vhost_virtqueue_stop): docs/ARCHITECTURE.md, "Inflight I/O tracking".
     */
    InflightRegion.Made getInflightFd(InflightMessage request) throws VhostUserException, NativeIoException {
        requireProtocolFeature(ProtocolFeature.INFLIGHT_SHMFD, "GET_INFLIGHT_FD");
        return InflightRegion.create(QueueLayout.of(ackedFeatures), request, vrings.length);
    }

    /**
     * SET_INFLIGHT_FD: maps the buffer the rings record their chains in from their next start; a
     * buffer a crashed back-end left chains in makes those rings serve them first. Refused while a
     * ring runs, since a running ring records in the buffer it started with.
     */
    void setInflightFd(InflightMessage message, Deque<FileDescriptor> fds) throws VhostUserException, NativeIoException {
        requireProtocolFeature(ProtocolFeature.INFLIGHT_SHMFD, "SET_INFLIGHT_FD");
        Vring running = runningRing();
        if (running != null) {
            throw new VhostUserException("SET_INFLIGHT_FD while ring " + running.index
                    + " runs; stop it with GET_VRING_BASE first");
        }
        InflightRegion next = InflightRegion.map(QueueLayout.of(ackedFeatures), message, fds.getFirst(), vrings.length);
        if (inflight != null) {
            inflight.close();
        }
        inflight = next;
        LOG.log(System.Logger.Level.INFO, name + ": inflight buffer of 0x" + Long.toHexString(message.mmapSize())
                + " bytes for " + message.numQueues() + " queues of " + message.queueSize());
    }

    // ---- announcing the guest after a migration ----

    /**
     * SEND_RARP: the u64 payload holds the guest's MAC in its first six bytes, as QEMU copies it
     * there (hw/virtio/vhost-user.c, vhost_user_migration_done, which QEMU calls on the
     * destination after a migration when the guest lacks VIRTIO_NET_F_GUEST_ANNOUNCE, once per
     * round of its announce timer). The device sends the announcement from its own thread.
     */
    void sendRarp(long payload) throws VhostUserException {
        requireProtocolFeature(ProtocolFeature.RARP, "SEND_RARP");
        byte[] mac = new byte[6];
        for (int i = 0; i < mac.length; i++) {
            mac[i] = (byte) (payload >>> (8 * i));
        }
        LOG.log(System.Logger.Level.INFO, name + ": SEND_RARP: announcing " + java.util.HexFormat.ofDelimiter(":").formatHex(mac));
        device.announce(mac);
    }

    void setProtocolFeatures(long features) throws VhostUserException {
        long unoffered = features & ~getProtocolFeatures();
        if (unoffered != 0) {
            throw new VhostUserException("SET_PROTOCOL_FEATURES: " + ProtocolFeature.describe(unoffered)
                    + " not offered (this back-end offers " + ProtocolFeature.describe(getProtocolFeatures()) + ")");
        }
        protocolFeatures = features;
        LOG.log(System.Logger.Level.INFO, name + ": protocol features " + ProtocolFeature.describe(features));
    }

    /** The first ring that runs, or null when none does. */
    private Vring runningRing() {
        for (Vring vring : vrings) {
            if (vring.running()) {
                return vring;
            }
        }
        return null;
    }

    // ---- device status ----

    /** RESET_OWNER: deprecated; the spec recommends reading it as "disable all rings". */
    void resetOwner() {
        stopAllRings();
    }

    void setStatus(long value) throws VhostUserException {
        if ((value & ~STATUS_MASK) != 0) {
            throw new VhostUserException("SET_STATUS 0x" + Long.toHexString(value) + ": the device status is one byte");
        }
        status = (int) value;
        if (status == 0) {
            // Writing 0 resets the device (virtio 1.2, 2.1): its rings stop, what it held for the
            // driver is dropped, and a fault is forgotten.
            stopAllRings();
            device.reset();
            faultedSinceReset = false;
        }
    }

    long getStatus() {
        return status | (needsReset() ? DEVICE_NEEDS_RESET : 0);
    }

    /** Whether a ring has faulted since the last reset: GET_STATUS then reports DEVICE_NEEDS_RESET. */
    private boolean needsReset() {
        for (Vring vring : vrings) {
            if (vring.running() && vring.active().fault() != null) {
                return true;
            }
        }
        return faultedSinceReset;
    }

    private void stopAllRings() {
        for (Vring vring : vrings) {
            stopRing(vring);
        }
    }

    long getQueueNum() {
        return device.queueNumForFrontend();
    }

    // ---- configuration space ----

    MemorySegment getConfig(ConfigSpaceMessage request) throws VhostUserException {
        requireProtocolFeature(ProtocolFeature.CONFIG, "GET_CONFIG");
        try {
            request.checkRange();
            byte[] data = device.readConfig(request.offset(), request.data().length);
            return new ConfigSpaceMessage(request.offset(), request.flags(), data).encode();
        } catch (VhostUserException | IllegalArgumentException e) {
            // The spec's way to report a failed GET_CONFIG: a reply with an empty payload.
            LOG.log(System.Logger.Level.WARNING, name + ": GET_CONFIG answered empty: " + e.getMessage());
            return ConfigSpaceMessage.failure();
        }
    }

    void setConfig(ConfigSpaceMessage request) throws VhostUserException {
        requireProtocolFeature(ProtocolFeature.CONFIG, "SET_CONFIG");
        request.checkRange();
        try {
            device.writeConfig(request.offset(), request.data());
        } catch (IllegalArgumentException e) {
            throw new VhostUserException("SET_CONFIG: " + e.getMessage(), e);
        }
    }

    private void requireProtocolFeature(ProtocolFeature feature, String what) throws VhostUserException {
        if (!feature.in(protocolFeatures)) {
            throw new VhostUserException(what + ": protocol feature " + feature + " was not negotiated");
        }
    }

    // ---- memory table ----

    /** The current mapping of the memory table, null while it is empty. */
    GuestMemory memory() {
        return memoryTable.memory();
    }

    long getMaxMemSlots() {
        return MemoryTable.MAX_MEM_SLOTS;
    }

    void setMemTable(List<MemoryRegionMessage> table, Deque<FileDescriptor> fds) throws VhostUserException {
        install(memoryTable.set(table, fds));
    }

    void addMemReg(MemoryRegionMessage description, Deque<FileDescriptor> fds) throws VhostUserException {
        install(memoryTable.add(description, fds));
    }

    void remMemReg(MemoryRegionMessage description) throws VhostUserException {
        install(memoryTable.remove(description));
    }

    /**
     * Moves every running ring onto the new mapping (each under its access lock, for the swap
     * only), then retires the old one, which by then no worker can be reading, and starts the
     * rings that were waiting for memory. Null: the table did not change.
     *
     * @throws VhostUserException when a ring does not fit the new table; that ring stops, the others go on
     */
    private void install(MemoryTable.Change change) throws VhostUserException {
        if (change == null) {
            return;
        }
        GuestMemory next = change.current();
        List<String> problems = new ArrayList<>();
        for (Vring vring : vrings) {
            if (vring.running()) {
                moveRing(vring, next, problems);
            }
        }
        if (change.previous() != null) {
            change.previous().close();
        }
        LOG.log(System.Logger.Level.INFO, name + ": memory table of " + memoryTable.regionCount() + " regions");
        for (Vring vring : vrings) {
            try {
                startIfReady(vring);
            } catch (VhostUserException e) {
                problems.add(e.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            throw new VhostUserException("rings outside the new memory table: " + String.join("; ", problems));
        }
    }

    private void moveRing(Vring vring, GuestMemory next, List<String> problems) {
        if (next == null) {
            problems.add("ring " + vring.index + ": the table is empty");
            stopRing(vring);
            return;
        }
        try {
            vring.active().reopenRings(base -> openRings(vring, next, base, true));
        } catch (InvalidQueueException e) {
            problems.add("ring " + vring.index + " stopped: " + e.getMessage());
            // Its old rings are still mapped until the old table retires, so it stops where it stood.
            stopRing(vring);
        } catch (NativeIoException e) {
            problems.add("ring " + vring.index + " moved, but waking its worker failed: " + e.getMessage());
        }
    }

    // ---- rings ----

    private Vring vring(VhostUserRequest request, int index) throws VhostUserException {
        if (index < 0 || index >= vrings.length) {
            throw new VhostUserException(request + ": ring " + Integer.toUnsignedString(index)
                    + " does not exist; the device has " + vrings.length);
        }
        return vrings[index];
    }

    private Vring vring(VhostUserRequest request, VringFile file) throws VhostUserException {
        if (file.reservedBitsSet()) {
            throw new VhostUserException(request + ": payload 0x" + Long.toHexString(file.value())
                    + " sets bits other than the ring index (0-7) and no-fd (8)");
        }
        return vring(request, file.index());
    }

    private Vring stoppedVring(VhostUserRequest request, int index) throws VhostUserException {
        Vring vring = vring(request, index);
        if (vring.running()) {
            throw new VhostUserException(request + ": ring " + index + " is running; stop it with GET_VRING_BASE first");
        }
        return vring;
    }

    void setVringNum(VringState state) throws VhostUserException {
        Vring vring = stoppedVring(VhostUserRequest.SET_VRING_NUM, state.index());
        int size = state.num();
        if (!QueueLayout.isValidSize(size)) {
            throw new VhostUserException("SET_VRING_NUM: ring " + state.index() + " size " + Integer.toUnsignedString(size)
                    + " is not a power of two from 1 to " + QueueLayout.MAX_SIZE);
        }
        vring.size = size;
    }

    void setVringAddr(VringAddress address) throws VhostUserException {
        Vring vring = vring(VhostUserRequest.SET_VRING_ADDR, address.index());
        if ((address.flags() & ~VringAddress.F_LOG) != 0) {
            throw new VhostUserException("SET_VRING_ADDR: ring " + address.index() + " flags 0x"
                    + Integer.toHexString(address.flags()) + ": only VHOST_VRING_F_LOG (bit 0) is defined");
        }
        if (vring.running()) {
            // QEMU sets VHOST_VRING_F_LOG and log_guest_addr on running rings when a migration
            // starts, and clears them when it ends: that, and nothing else, may change while a ring runs.
            VringAddress current = vring.address;
            if (address.desc() != current.desc() || address.used() != current.used() || address.avail() != current.avail()) {
                throw new VhostUserException("SET_VRING_ADDR: ring " + address.index()
                        + " is running; stop it with GET_VRING_BASE before moving its rings");
            }
            vring.address = address;
            vring.active().setWriteLog(loggingOn() ? dirtyLog : null, deviceAreaLogAddr(vring));
            return;
        }
        VringAddress previous = vring.address;
        vring.address = address;
        GuestMemory memory = memoryTable.memory();
        if (memory != null && vring.size != 0) {
            // Checked now, against the table the front-end has sent, so the error comes with the request at fault.
            try {
                // Without the inflight buffer: a check must not initialize or settle its region.
                openRings(vring, memory, vring.base, false);
            } catch (InvalidQueueException e) {
                vring.address = previous;
                throw new VhostUserException("SET_VRING_ADDR: ring " + address.index() + ": " + e.getMessage(), e);
            }
        }
    }

    void setVringBase(VringState state) throws VhostUserException {
        Vring vring = stoppedVring(VhostUserRequest.SET_VRING_BASE, state.index());
        boolean packed = Feature.RING_PACKED.in(ackedFeatures);
        if (!packed && (state.num() & ~0xFFFF) != 0) {
            throw new VhostUserException("SET_VRING_BASE: ring " + state.index() + " base 0x"
                    + Integer.toHexString(state.num()) + " is beyond a split ring's 16-bit index");
        }
        vring.base = state.num();
    }

    /** Stops the ring for good (STOPPED: it runs again only after a new kick) and says where it stood. */
    VringState getVringBase(VringState state) throws VhostUserException {
        Vring vring = vring(VhostUserRequest.GET_VRING_BASE, state.index());
        stopRing(vring);
        vring.replaceKick(null);
        LOG.log(System.Logger.Level.INFO, name + ": ring " + vring.index + " stopped at base 0x" + Integer.toHexString(vring.base));
        return new VringState(vring.index, vring.base);
    }

    void setVringKick(VringFile file, Deque<FileDescriptor> fds) throws VhostUserException, NativeIoException {
        Vring vring = vring(VhostUserRequest.SET_VRING_KICK, file);
        if (file.noFd()) {
            // The spec's no-fd kick asks the back-end to poll the ring; a worker polling without
            // end takes a core from the guest (docs/ARCHITECTURE.md, "Rings without a kick").
            throw new VhostUserException("SET_VRING_KICK: ring " + vring.index
                    + " without a kick eventfd: this back-end does not poll rings; send an eventfd");
        }
        EventFd kick = eventFd(VhostUserRequest.SET_VRING_KICK, file, fds);
        // A new kick for a running ring: stop it where it stands and start it again on the new eventfd.
        stopRing(vring);
        vring.replaceKick(kick);
        startIfReady(vring);
    }

    /** SET_VRING_CALL or SET_VRING_ERR: installed at once, in a running ring too. */
    void setNotifier(VhostUserRequest request, Notifier which, VringFile file, Deque<FileDescriptor> fds)
            throws VhostUserException, NativeIoException {
        Vring vring = vring(request, file);
        EventFd next = eventFd(request, file, fds);
        EventFd previous = vring.notifier(which);
        if (vring.running()) {
            vring.active().replace(which, which == Notifier.ERR ? faultSignal(vring.index, next) : next);
        }
        vring.setNotifier(which, next);
        Vring.close(previous);
    }

    /**
     * What a ring's fault raises, on the worker's thread: the front-end's err eventfd, if it gave
     * one, and the notice that has the control plane send CONFIG_CHANGE_MSG ({@link #reportFault}).
     */
    private Signal faultSignal(int index, EventFd err) {
        return () -> {
            try {
                if (err != null) {
                    err.signal();
                }
            } finally {
                queueFaults.accept(index);
            }
        };
    }

    // ---- the back-end channel ----

    /**
     * SET_BACKEND_REQ_FD: the socket the back-end sends its own requests on, in place of an
     * earlier one.
     *
     * @throws VhostUserException when BACKEND_REQ was not negotiated or the fd is not a socket
     */
    void setBackendReqFd(Deque<FileDescriptor> fds) throws VhostUserException, NativeIoException {
        requireProtocolFeature(ProtocolFeature.BACKEND_REQ, "SET_BACKEND_REQ_FD");
        UnixSocket socket;
        try {
            socket = UnixSocket.adopt(fds.getFirst());
        } catch (IOException e) {
            throw new VhostUserException("SET_BACKEND_REQ_FD: " + e.getMessage(), e);
        }
        fds.removeFirst();
        BackendChannel next;
        try {
            next = new BackendChannel(name, socket, ProtocolFeature.REPLY_ACK.in(protocolFeatures));
        } catch (NativeIoException e) {
            socket.close();
            throw e;
        }
        if (backendChannel != null) {
            backendChannel.close();
        }
        backendChannel = next;
        LOG.log(System.Logger.Level.INFO, name + ": back-end channel set up (SET_BACKEND_REQ_FD)");
    }

    /** Logs the acks the front-end sent on the back-end channel since the last look; never waits. */
    void readBackendAcks() {
        if (backendChannel != null) {
            backendChannel.readAcks();
        }
    }

    /**
     * A ring faulted (the guest broke it): DEVICE_NEEDS_RESET is set and its err eventfd signalled
     * already; with a back-end channel, the front-end is also sent CONFIG_CHANGE_MSG
     * (docs/ARCHITECTURE.md, "Faults in the datapath", says what QEMU makes of it). On the
     * control-plane thread.
     */
    void reportFault(int index) {
        boolean sent = backendChannel != null && backendChannel.configChanged();
        LOG.log(System.Logger.Level.WARNING, name + ": ring " + index + " faulted: DEVICE_NEEDS_RESET set, err eventfd "
                + "signalled" + (sent ? ", CONFIG_CHANGE_MSG sent on the back-end channel"
                        : backendChannel == null ? "; no back-end channel (BACKEND_REQ) to send CONFIG_CHANGE_MSG on"
                                : "; CONFIG_CHANGE_MSG could not be sent"));
    }

    /**
     * The eventfd that came with a SET_VRING_KICK/CALL/ERR, or null when its no-fd bit is set. The
     * fd leaves {@code fds} only once adopted, so one that cannot be adopted is still closed.
     *
     * @throws VhostUserException when the fd is not an eventfd: the worker's first read or write
     *         of it would fail, so it is refused here, where the front-end can be told
     */
    private static EventFd eventFd(VhostUserRequest request, VringFile file, Deque<FileDescriptor> fds)
            throws VhostUserException {
        if (file.noFd()) {
            return null;
        }
        EventFd eventFd;
        try {
            eventFd = EventFd.adopt(fds.getFirst());
        } catch (IOException e) {
            throw new VhostUserException(request + ": ring " + file.index() + ": " + e.getMessage(), e);
        }
        fds.removeFirst();
        return eventFd;
    }

    void setVringEnable(VringState state) throws VhostUserException, NativeIoException {
        Vring vring = vring(VhostUserRequest.SET_VRING_ENABLE, state.index());
        if (state.num() != 0 && state.num() != 1) {
            throw new VhostUserException("SET_VRING_ENABLE: ring " + state.index() + " state "
                    + Integer.toUnsignedString(state.num()) + " is neither 0 nor 1");
        }
        vring.enabled = state.num() == 1;
        if (vring.enabled) {
            startIfReady(vring);
        } else {
            stopRing(vring);
        }
    }

    /**
     * WAITING to RUNNING for a ring that has everything it needs; one that lacks something waits
     * for it. Without VHOST_USER_F_PROTOCOL_FEATURES a ring needs no SET_VRING_ENABLE (the spec's
     * ring states).
     */
    private void startIfReady(Vring vring) throws VhostUserException {
        boolean enabled = vring.enabled || !Feature.VHOST_USER_PROTOCOL_FEATURES.in(ackedFeatures);
        GuestMemory memory = memoryTable.memory();
        if (vring.state() != Vring.State.WAITING || !enabled || memory == null || !vring.configured()) {
            return;
        }
        DeviceQueue rings;
        try {
            rings = openRings(vring, memory, vring.base, true);
        } catch (InvalidQueueException e) {
            throw new VhostUserException("ring " + vring.index + " cannot start: " + e.getMessage(), e);
        }
        ActiveQueue active = new ActiveQueue(vring.index, rings, vring.kick(), vring.notifier(Notifier.CALL),
                faultSignal(vring.index, vring.notifier(Notifier.ERR)));
        try {
            device.startQueue(active);
        } catch (RuntimeException e) {
            // Not running, so nothing later stops it: a half-started ring made close() throw and
            // left the session's memory mapped (docs/FUZZING.md, finding 2).
            active.stop();
            throw new VhostUserException("ring " + vring.index + " cannot start: " + e.getMessage(), e);
        }
        vring.run(active);
        LOG.log(System.Logger.Level.INFO, name + ": ring " + vring.index + " started at base 0x"
                + Integer.toHexString(vring.base) + " (" + QueueLayout.of(ackedFeatures) + ", size " + vring.size + ")");
    }

    /** RUNNING to WAITING: stops a running ring and keeps its position as the base to resume from. */
    private void stopRing(Vring vring) {
        if (!vring.running()) {
            return;
        }
        if (vring.stop()) {
            faultedSinceReset = true;
        }
        device.stopQueue(vring.index);
    }

    /**
     * The ring's areas in {@code on}, at {@code base}; its ring addresses are the front-end's
     * virtual ones. {@code tracked}: with its region of the inflight buffer, if there is one.
     */
    private DeviceQueue openRings(Vring vring, GuestMemory on, int base, boolean tracked) throws InvalidQueueException {
        QueueConfig config = QueueConfig.of(ackedFeatures, vring.size, vring.rings());
        DeviceQueue rings;
        try {
            rings = DeviceQueue.open(config, on, on::translateFrontend, base,
                    inflight == null || !tracked ? null : inflight.queue(vring.index, vring.size, config.layout()));
        } catch (IndexOutOfBoundsException | InternalError e) {
            // A region whose links lead out of it, or a buffer cut short under us (SIGBUS).
            throw new InvalidQueueException("inflight buffer: " + e.getMessage());
        }
        if (loggingOn()) {
            // Before the worker sees the queue: it marks from its first burst.
            rings.setWriteLog(dirtyLog, deviceAreaLogAddr(vring));
        }
        return rings;
    }

    /** Ends the session's state: rings stopped, the device reset, every mapping and descriptor released. */
    @Override
    public void close() {
        for (Vring vring : vrings) {
            stopRing(vring);
            vring.close();
        }
        device.reset();
        memoryTable.close();
        if (dirtyLog != null) {
            dirtyLog.close();
            dirtyLog = null;
        }
        if (inflight != null) {
            inflight.close();
            inflight = null;
        }
        if (backendChannel != null) {
            backendChannel.close();
            backendChannel = null;
        }
    }
}
