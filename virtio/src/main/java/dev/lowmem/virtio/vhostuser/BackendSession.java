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
import dev.lowmem.vmm.core.memory.GuestMemory;
import dev.lowmem.vmm.core.memory.GuestRegion;
import dev.lowmem.vmm.core.memory.InvalidMemoryTableException;
import dev.lowmem.vmm.core.memory.Memfd;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;

/**
 * One front-end's session with a device: the vhost-user requests of one connection, carried out
 * on the control-plane thread. Every message is checked against its request's shape before a
 * handler sees it; a handler that refuses a request throws {@link VhostUserException}, which
 * becomes an error reply when the front-end asked for one (REPLY_ACK) and the end of the
 * connection otherwise. File descriptors a handler does not keep are closed.
 */
final class BackendSession implements AutoCloseable {
    /** What this back-end speaks of the protocol extensions. */
    static final long PROTOCOL_FEATURES = ProtocolFeature.of(ProtocolFeature.MQ, ProtocolFeature.REPLY_ACK,
            ProtocolFeature.CONFIG, ProtocolFeature.STATUS, ProtocolFeature.CONFIGURE_MEM_SLOTS);
    /** Regions a memory table may hold through ADD_MEM_REG (GET_MAX_MEM_SLOTS). */
    static final int MAX_MEM_SLOTS = 32;

    private static final System.Logger LOG = System.getLogger(BackendSession.class.getName());
    private static final long ACK_SUCCESS = 0;
    private static final long ACK_FAILURE = 1;
    private static final int STATUS_MASK = 0xFF;
    /** The device status bit that says the device stopped working and awaits a reset (virtio 1.2, 2.1). */
    static final int DEVICE_NEEDS_RESET = 0x40;

    private final String name;
    private final MessageChannel channel;
    private final VirtioDevice device;
    private final long offeredFeatures;
    private final Vring[] vrings;
    private long ackedFeatures;
    private long protocolFeatures;
    private int status;
    /** A ring faulted and has stopped since the driver last reset the device. */
    private boolean faultedSinceReset;
    /** The memory table's regions, each with the fd it is mapped from (kept to map the table anew). */
    private final List<MappedRegion> regions = new ArrayList<>();
    private GuestMemory memory;
    /** Whether the front-end sent SET_OWNER, the spec's "session start" flag. */
    private boolean settled;

    /**
     * A region of the table and the fd it is mapped from. {@code additions} counts the ADD_MEM_REGs
     * of it not yet removed: QEMU keeps a vhost device per queue pair on one connection, and each
     * adds the whole of guest memory, so the same region comes once per pair and is removed once
     * per pair; it leaves the table with the last removal.
     */
    private static final class MappedRegion {
        private final MemoryRegionMessage description;
        private final FileDescriptor fd;
        private int additions = 1;

        MappedRegion(MemoryRegionMessage description, FileDescriptor fd) {
            this.description = description;
            this.fd = fd;
        }

        MemoryRegionMessage description() {
            return description;
        }

        FileDescriptor fd() {
            return fd;
        }

        GuestRegion guestRegion() {
            return new GuestRegion(description.guestPhysAddr(), description.size(), description.userAddr(),
                    description.mmapOffset(), fd);
        }
    }

    BackendSession(String name, MessageChannel channel, VirtioDevice device) {
        this.name = name;
        this.channel = channel;
        this.device = device;
        this.offeredFeatures = device.deviceFeatures() | Feature.VHOST_USER_PROTOCOL_FEATURES.mask();
        this.vrings = new Vring[device.maxQueues()];
        for (int i = 0; i < vrings.length; i++) {
            vrings[i] = new Vring(i);
        }
    }

    /** Whether the front-end has sent SET_OWNER: the session has started, and keeps its connection. */
    boolean settled() {
        return settled;
    }

    /**
     * Handles every message that has arrived.
     *
     * @return false when the session is over: the front-end left, broke the stream, or had a
     *         request refused without asking for a reply
     */
    boolean onReadable() {
        while (true) {
            VhostUserMessage message;
            try {
                message = channel.read();
            } catch (EOFException e) {
                LOG.log(System.Logger.Level.INFO, name + ": front-end disconnected");
                return false;
            } catch (ProtocolViolationException e) {
                LOG.log(System.Logger.Level.WARNING, name + ": closing the connection: " + e.getMessage());
                return false;
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, name + ": closing the connection: reading failed: " + e.getMessage());
                return false;
            }
            if (message == null) {
                return true;
            }
            if (!handle(message)) {
                return false;
            }
        }
    }

    private boolean handle(VhostUserMessage message) {
        Deque<FileDescriptor> fds = new ArrayDeque<>(message.fds());
        try {
            if (message.fdsDiscarded()) {
                throw new VhostUserException(message.name() + ": came with more than " + VhostUserRequest.MAX_FDS
                        + " file descriptors");
            }
            VhostUserRequest request = message.request();
            if (request == null) {
                throw new VhostUserException(message.name() + " is not a request this back-end knows");
            }
            request.checkShape(message.body(), fds.size());
            MemorySegment reply = dispatch(request, message.body(), fds);
            if (reply != null) {
                send(message, reply);
            } else if (message.needsReply() && ProtocolFeature.REPLY_ACK.in(protocolFeatures)) {
                send(message, Wire.u64Payload(ACK_SUCCESS));
            }
            return true;
        } catch (VhostUserException e) {
            return refuse(message, e.getMessage());
        } catch (NativeIoException e) {
            LOG.log(System.Logger.Level.WARNING, name + ": closing the connection: " + message.name() + ": " + e.getMessage());
            return false;
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, name + ": closing the connection: " + message.name() + " failed", e);
            return false;
        } finally {
            fds.forEach(FileDescriptor::close);
        }
    }

    /** A refused request gets its error reply if the front-end asked for one; otherwise the session ends. */
    private boolean refuse(VhostUserMessage message, String reason) {
        VhostUserRequest request = message.request();
        // An unknown request has no reply of its own we could send, so the ack it asked for is its answer.
        boolean ackable = message.needsReply() && ProtocolFeature.REPLY_ACK.in(protocolFeatures)
                && (request == null || !request.replies());
        LOG.log(System.Logger.Level.WARNING, name + ": refused " + reason
                + (ackable ? "" : "; closing the connection, as the front-end asked for no reply to report it in"));
        if (!ackable) {
            return false;
        }
        try {
            send(message, Wire.u64Payload(ACK_FAILURE));
            return true;
        } catch (NativeIoException e) {
            LOG.log(System.Logger.Level.WARNING, name + ": closing the connection: error reply failed: " + e.getMessage());
            return false;
        }
    }

    private void send(VhostUserMessage request, MemorySegment body) throws NativeIoException {
        channel.send(request.code(), VhostUserHeader.VERSION | VhostUserHeader.REPLY, body);
    }

    /** Carries out one well-formed request; returns its reply body, or null when it has none. */
    private MemorySegment dispatch(VhostUserRequest request, MemorySegment body, Deque<FileDescriptor> fds)
            throws VhostUserException, NativeIoException {
        return switch (request) {
            case GET_FEATURES -> Wire.u64Payload(offeredFeatures);
            case SET_FEATURES -> {
                setFeatures(Wire.u64(body, 0));
                yield null;
            }
            case GET_PROTOCOL_FEATURES -> Wire.u64Payload(PROTOCOL_FEATURES);
            case SET_PROTOCOL_FEATURES -> {
                setProtocolFeatures(Wire.u64(body, 0));
                yield null;
            }
            case SET_OWNER -> {
                settled = true;
                yield null;
            }
            case RESET_OWNER -> {
                // Deprecated; the spec recommends reading it as "disable all rings".
                stopAllRings();
                yield null;
            }
            case SET_MEM_TABLE -> {
                setMemTable(MemoryTableMessage.read(body), fds);
                yield null;
            }
            case ADD_MEM_REG -> {
                addMemReg(MemoryRegionMessage.read(body), fds);
                yield null;
            }
            case REM_MEM_REG -> {
                remMemReg(MemoryRegionMessage.read(body));
                yield null;
            }
            case GET_MAX_MEM_SLOTS -> Wire.u64Payload(MAX_MEM_SLOTS);
            case SET_VRING_NUM -> {
                setVringNum(VringState.read(body));
                yield null;
            }
            case SET_VRING_ADDR -> {
                setVringAddr(VringAddress.read(body));
                yield null;
            }
            case SET_VRING_BASE -> {
                setVringBase(VringState.read(body));
                yield null;
            }
            case GET_VRING_BASE -> getVringBase(VringState.read(body));
            case SET_VRING_KICK -> {
                setVringKick(VringFile.read(body), fds);
                yield null;
            }
            case SET_VRING_CALL -> {
                setNotifier(request, Notifier.CALL, VringFile.read(body), fds);
                yield null;
            }
            case SET_VRING_ERR -> {
                setNotifier(request, Notifier.ERR, VringFile.read(body), fds);
                yield null;
            }
            case SET_VRING_ENABLE -> {
                setVringEnable(VringState.read(body));
                yield null;
            }
            case GET_QUEUE_NUM -> Wire.u64Payload(device.queueNumForFrontend());
            case GET_CONFIG -> getConfig(ConfigSpaceMessage.read(body));
            case SET_CONFIG -> {
                setConfig(ConfigSpaceMessage.read(body));
                yield null;
            }
            case SET_STATUS -> {
                setStatus(Wire.u64(body, 0));
                yield null;
            }
            case GET_STATUS -> Wire.u64Payload(status | (needsReset() ? DEVICE_NEEDS_RESET : 0));
            case SET_LOG_BASE, SET_LOG_FD -> throw notOffered(request, "dirty-page logging (LOG_SHMFD, VHOST_F_LOG_ALL)");
            case SEND_RARP -> throw notOffered(request, "protocol feature RARP");
            case NET_SET_MTU -> throw notOffered(request, "protocol feature NET_MTU");
        };
    }

    private static VhostUserException notOffered(VhostUserRequest request, String what) {
        return new VhostUserException(request + ": needs " + what + ", which this back-end does not offer");
    }

    // ---- features ----

    private void setFeatures(long features) throws VhostUserException {
        Vring running = runningRing();
        if (running != null) {
            if (features == ackedFeatures) {
                // QEMU keeps a vhost device per queue pair on one connection, and each sends its
                // SET_FEATURES when it starts, while the rings of the pairs before it run: the same
                // features again change nothing (DPDK accepts them too). A change is refused.
                return;
            }
            throw new VhostUserException("SET_FEATURES while ring " + running.index
                    + " runs; stop it with GET_VRING_BASE first");
        }
        try {
            Features.accept(offeredFeatures, features);
            device.acknowledgeFeatures(features & ~Feature.VHOST_USER_PROTOCOL_FEATURES.mask());
        } catch (FeatureNegotiationException e) {
            throw new VhostUserException("SET_FEATURES " + Features.describe(features) + ": " + e.getMessage(), e);
        }
        ackedFeatures = features;
        LOG.log(System.Logger.Level.INFO, name + ": features " + Features.describe(features));
    }

    private void setProtocolFeatures(long features) throws VhostUserException {
        long unoffered = features & ~PROTOCOL_FEATURES;
        if (unoffered != 0) {
            throw new VhostUserException("SET_PROTOCOL_FEATURES: " + ProtocolFeature.describe(unoffered)
                    + " not offered (this back-end offers " + ProtocolFeature.describe(PROTOCOL_FEATURES) + ")");
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

    private void setStatus(long value) throws VhostUserException {
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

    /** Whether a ring has faulted since the last reset: GET_STATUS then reports DEVICE_NEEDS_RESET. */
    private boolean needsReset() {
        for (Vring vring : vrings) {
            if (vring.running() && vring.active.fault() != null) {
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

    // ---- configuration space ----

    private MemorySegment getConfig(ConfigSpaceMessage request) throws VhostUserException {
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

    private void setConfig(ConfigSpaceMessage request) throws VhostUserException {
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

    /**
     * The fds stay in {@code fds} until the table is mapped: a refused table leaves them to the
     * session, which closes every fd a handler did not take.
     */
    private void setMemTable(List<MemoryRegionMessage> table, Deque<FileDescriptor> fds) throws VhostUserException {
        List<MappedRegion> next = new ArrayList<>();
        for (FileDescriptor fd : fds) {
            next.add(new MappedRegion(table.get(next.size()), fd));
        }
        sealAgainstShrinking(next);
        GuestMemory mapped = map(next);
        fds.clear();
        regions.forEach(region -> region.fd().close());
        regions.clear();
        regions.addAll(next);
        install(mapped);
    }

    private void addMemReg(MemoryRegionMessage description, Deque<FileDescriptor> fds) throws VhostUserException {
        Optional<MappedRegion> same = regionLike(description);
        if (same.isPresent()) {
            // Mapped already; the fd that came with it is closed with the message's others.
            same.get().additions++;
            return;
        }
        if (regions.size() == MAX_MEM_SLOTS) {
            throw new VhostUserException("ADD_MEM_REG " + description + ": the table is full (" + MAX_MEM_SLOTS + " regions)");
        }
        MappedRegion added = new MappedRegion(description, fds.getFirst());
        sealAgainstShrinking(List.of(added));
        List<MappedRegion> next = new ArrayList<>(regions);
        next.add(added);
        GuestMemory mapped = map(next);
        fds.removeFirst();
        regions.add(added);
        install(mapped);
    }

    private void remMemReg(MemoryRegionMessage description) throws VhostUserException {
        MappedRegion removed = regionLike(description).orElseThrow(() -> new VhostUserException("REM_MEM_REG "
                + description + ": no such region in the table"));
        if (removed.additions > 1) {
            removed.additions--;
            return;
        }
        List<MappedRegion> next = new ArrayList<>(regions);
        next.remove(removed);
        GuestMemory mapped = map(next);
        regions.remove(removed);
        removed.fd().close();
        install(mapped);
    }

    /** The region of the table that {@code description} names (the spec's match: address, size, user address). */
    private Optional<MappedRegion> regionLike(MemoryRegionMessage description) {
        return regions.stream().filter(region -> region.description().sameRegion(description)).findFirst();
    }

    /**
     * Seals the files of regions just received against shrinking where they allow it (QEMU's are
     * sealed already); of one that does not, the pages a front-end cuts off fault the queues that
     * touch them, which stop and ask for a reset while the worker goes on.
     */
    private void sealAgainstShrinking(List<MappedRegion> received) {
        long unsealed = received.stream().filter(region -> !Memfd.sealAgainstShrinking(region.fd())).count();
        if (unsealed > 0) {
            LOG.log(System.Logger.Level.INFO, name + ": " + unsealed + " of " + received.size()
                    + " memory regions received cannot be sealed against shrinking (not a memfd made to be sealed)");
        }
    }

    /** Maps a table: the heavy part, done before any lock is taken. Null for an empty table. */
    private static GuestMemory map(List<MappedRegion> table) throws VhostUserException {
        if (table.isEmpty()) {
            return null;
        }
        try {
            return GuestMemory.map(table.stream().map(MappedRegion::guestRegion).toList());
        } catch (InvalidMemoryTableException | NativeIoException e) {
            throw new VhostUserException("a memory table of " + table.size() + " regions: " + e.getMessage(), e);
        }
    }

    /**
     * Moves every running ring onto {@code next} (each under its access lock, for the swap only),
     * then retires the old mapping, which by then no worker can be reading, and starts the rings
     * that were waiting for memory.
     *
     * @throws VhostUserException when a ring does not fit the new table; that ring stops, the others go on
     */
    private void install(GuestMemory next) throws VhostUserException {
        GuestMemory previous = memory;
        memory = next;
        List<String> problems = new ArrayList<>();
        for (Vring vring : vrings) {
            if (vring.running()) {
                moveRing(vring, next, problems);
            }
        }
        if (previous != null) {
            previous.close();
        }
        LOG.log(System.Logger.Level.INFO, name + ": memory table of " + regions.size() + " regions");
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
            vring.active.reopenRings(base -> openRings(vring, next, base));
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

    private void setVringNum(VringState state) throws VhostUserException {
        Vring vring = stoppedVring(VhostUserRequest.SET_VRING_NUM, state.index());
        int size = state.num();
        if (!QueueLayout.isValidSize(size)) {
            throw new VhostUserException("SET_VRING_NUM: ring " + state.index() + " size " + Integer.toUnsignedString(size)
                    + " is not a power of two from 1 to " + QueueLayout.MAX_SIZE);
        }
        vring.size = size;
    }

    private void setVringAddr(VringAddress address) throws VhostUserException {
        Vring vring = stoppedVring(VhostUserRequest.SET_VRING_ADDR, address.index());
        if (address.flags() != 0) {
            throw new VhostUserException("SET_VRING_ADDR: ring " + address.index() + " flags 0x"
                    + Integer.toHexString(address.flags()) + ": used-ring logging (VHOST_VRING_F_LOG) is not offered");
        }
        VringAddress previous = vring.address;
        vring.address = address;
        if (memory != null && vring.size != 0) {
            // Checked now, against the table the front-end has sent, so the error comes with the request at fault.
            try {
                openRings(vring, memory, vring.base);
            } catch (InvalidQueueException e) {
                vring.address = previous;
                throw new VhostUserException("SET_VRING_ADDR: ring " + address.index() + ": " + e.getMessage(), e);
            }
        }
    }

    private void setVringBase(VringState state) throws VhostUserException {
        Vring vring = stoppedVring(VhostUserRequest.SET_VRING_BASE, state.index());
        boolean packed = Feature.RING_PACKED.in(ackedFeatures);
        if (!packed && (state.num() & ~0xFFFF) != 0) {
            throw new VhostUserException("SET_VRING_BASE: ring " + state.index() + " base 0x"
                    + Integer.toHexString(state.num()) + " is beyond a split ring's 16-bit index");
        }
        vring.base = state.num();
    }

    private MemorySegment getVringBase(VringState state) throws VhostUserException {
        Vring vring = vring(VhostUserRequest.GET_VRING_BASE, state.index());
        stopRing(vring);
        // A stopped ring starts again only with a new kick (the spec's ring lifecycle).
        vring.replaceKick(null);
        LOG.log(System.Logger.Level.INFO, name + ": ring " + vring.index + " stopped at base 0x" + Integer.toHexString(vring.base));
        return new VringState(vring.index, vring.base).encode();
    }

    private void setVringKick(VringFile file, Deque<FileDescriptor> fds) throws VhostUserException, NativeIoException {
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
    private void setNotifier(VhostUserRequest request, Notifier which, VringFile file, Deque<FileDescriptor> fds)
            throws VhostUserException, NativeIoException {
        Vring vring = vring(request, file);
        EventFd next = eventFd(request, file, fds);
        EventFd previous = vring.running() ? vring.active.replace(which, next) : vring.notifier(which);
        vring.setNotifier(which, next);
        Vring.close(previous);
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

    private void setVringEnable(VringState state) throws VhostUserException, NativeIoException {
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
     * Starts a ring that has everything it needs; one that lacks something waits for it. Without
     * VHOST_USER_F_PROTOCOL_FEATURES a ring needs no SET_VRING_ENABLE (the spec's ring states).
     */
    private void startIfReady(Vring vring) throws VhostUserException {
        boolean enabled = vring.enabled || !Feature.VHOST_USER_PROTOCOL_FEATURES.in(ackedFeatures);
        if (vring.running() || vring.kick == null || !enabled || memory == null || vring.address == null || vring.size == 0) {
            return;
        }
        DeviceQueue rings;
        try {
            rings = openRings(vring, memory, vring.base);
        } catch (InvalidQueueException e) {
            throw new VhostUserException("ring " + vring.index + " cannot start: " + e.getMessage(), e);
        }
        ActiveQueue active = new ActiveQueue(vring.index, rings, vring.kick, vring.notifier(Notifier.CALL),
                vring.notifier(Notifier.ERR));
        try {
            device.startQueue(active);
        } catch (RuntimeException e) {
            // Not running, so nothing later stops it: a half-started ring made close() throw and
            // left the session's memory mapped (docs/FUZZING.md, finding 2).
            active.stop();
            throw new VhostUserException("ring " + vring.index + " cannot start: " + e.getMessage(), e);
        }
        vring.active = active;
        LOG.log(System.Logger.Level.INFO, name + ": ring " + vring.index + " started at base 0x"
                + Integer.toHexString(vring.base) + " (" + QueueLayout.of(ackedFeatures) + ", size " + vring.size + ")");
    }

    /** Stops a running ring and keeps its position as the base to resume from. */
    private void stopRing(Vring vring) {
        if (!vring.running()) {
            return;
        }
        if (vring.active.fault() != null) {
            faultedSinceReset = true;
        }
        vring.base = vring.active.stop();
        device.stopQueue(vring.index);
        vring.active = null;
    }

    /** The ring's areas in {@code on}, at {@code base}; its ring addresses are the front-end's virtual ones. */
    private DeviceQueue openRings(Vring vring, GuestMemory on, int base) throws InvalidQueueException {
        return DeviceQueue.open(QueueConfig.of(ackedFeatures, vring.size, vring.rings()), on, on::translateFrontend, base);
    }

    /** Ends the session: rings stopped, the device reset, every mapping and descriptor released. */
    @Override
    public void close() {
        for (Vring vring : vrings) {
            stopRing(vring);
            vring.close();
        }
        device.reset();
        if (memory != null) {
            memory.close();
            memory = null;
        }
        regions.forEach(region -> region.fd().close());
        regions.clear();
        channel.close();
    }
}
