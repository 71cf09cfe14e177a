package dev.lowmem.devices.port.sw;

import dev.lowmem.devices.port.PortQueue;
import dev.lowmem.devices.port.RxBuffers;
import dev.lowmem.devices.port.TapPort;
import dev.lowmem.devices.port.TxFrame;
import dev.lowmem.devices.wire.VirtioNetHeader;
import dev.lowmem.virtio.Feature;
import dev.lowmem.vmm.core.event.Epoll;
import dev.lowmem.vmm.core.event.EpollEvents;
import dev.lowmem.vmm.core.event.EventFd;
import dev.lowmem.vmm.core.memory.ScatterList;
import dev.lowmem.vmm.core.nativeio.IovecArray;
import dev.lowmem.vmm.core.nativeio.LibC;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.locks.LockSupport;

/**
 * The switch's port to the host: a TAP, served by a thread of its own that moves the host's
 * frames into the switch and the switch's frames for the host out of the TAP. It sleeps in epoll
 * on the TAP's fd and on its port's {@link Doorbell}, as a queue pair's worker does on kicks.
 *
 * <p>The TAP runs with a 12-byte vnet header and the offloads every guest on the switch
 * negotiated ({@link #offerOffloads}), so the kernel hands over 64 KiB segments with partial
 * checksums when all guests take them and finished frames otherwise; it takes any frame. A frame
 * from the host is read whole into a scratch buffer of the largest size, then forwarded as a
 * guest's is (copied into pool buffers for each port it goes to): one copy more than a guest's
 * frame, the price of reading a frame whose length is not known before the read. A frame for the
 * host goes out with one {@code writev} over its pool buffers.
 *
 * <p>Back-pressure both ways: a host frame whose port is full stays in the scratch buffer and the
 * thread stops reading the TAP (the kernel's queue holds the rest, and drops past it, counted by
 * the kernel as the TAP's {@code tx_dropped}) until that port drains; a TAP that takes no more is
 * waited on with EPOLLOUT while the frames wait in this port's inbox, up to its bound.
 */
public final class Uplink implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Uplink.class.getName());
    private static final int BURST = 32;
    private static final long TAP = 1;
    private static final long DOORBELL = 2;
    private static final long WAKEUP = 3;
    /** After an error outside any frame: long enough not to spin on one that repeats (as QueuePairWorker). */
    private static final long ERROR_PAUSE_NANOS = 10_000_000;
    private static final int HEADER = VirtioNetHeader.SIZE;

    private final TapPort tap;
    private final PortQueue tapQueue;
    private final SwitchQueue switchQueue;
    private final Forwarder forwarder;
    private final Arena arena = Arena.ofShared();
    private final ScatterList hostPieces = new ScatterList(1);
    private final RxBuffers hostBuffers;
    private final TxFrame fromHost;
    private final IovecArray toHostIovecs;
    /** The TAP writes the iovecs alone, the inbox's header first ({@link Inbox#gatherOldest}); TxFrame wants a header view all the same. */
    private final MemorySegment unusedHeader;
    private final TxFrame toHost;
    private final Epoll epoll;
    private final EventFd wakeup;
    private final EpollEvents ready;
    private final Thread thread;
    private volatile boolean running = true;
    /** A host frame read and not yet taken by the switch: its port was full. */
    private boolean pending;
    /** The TAP refused a frame for want of room: wait for EPOLLOUT. */
    private boolean hostFull;
    private int tapEvents = -1;
    private String lastError;

    private Uplink(TapPort tap, SwitchQueue switchQueue, Forwarder forwarder) throws IOException {
        this.tap = tap;
        this.tapQueue = tap.queue(0);
        this.switchQueue = switchQueue;
        this.forwarder = forwarder;
        tap.negotiated(Feature.VERSION_1.mask(), HEADER);
        // The host always receives: a full uplink makes guests wait, not drop.
        switchQueue.receiverRuns();
        MemorySegment scratch = arena.allocate(HEADER + L2Switch.MAX_PACKET, Long.BYTES);
        hostPieces.add(scratch);
        IovecArray hostIovecs = new IovecArray(arena, 1);
        hostIovecs.add(scratch);
        hostBuffers = new RxBuffers(hostPieces, hostIovecs);
        fromHost = new TxFrame(scratch.asSlice(0, HEADER), hostIovecs);
        toHostIovecs = new IovecArray(arena, IovecArray.IOV_MAX);
        unusedHeader = arena.allocate(HEADER);
        toHost = new TxFrame(unusedHeader, toHostIovecs);
        ready = new EpollEvents(arena, 3);
        epoll = Epoll.create();
        try {
            wakeup = EventFd.create();
            epoll.add(wakeup.fd(), LibC.EPOLLIN, WAKEUP);
            epoll.add(switchQueue.fd(), LibC.EPOLLIN, DOORBELL);
            epoll.add(tapQueue.fd(), 0, TAP);
        } catch (NativeIoException e) {
            epoll.close();
            throw e;
        }
        thread = Thread.ofPlatform().name("vnet-uplink-" + tap.interfaceName()).daemon().unstarted(this::run);
    }

    /**
     * Serves {@code tap} as the port of {@code switchQueue}, sending through {@code forwarder}; owns both
     * from here, also when it fails to start. Called by {@link L2Switch}.
     */
    static Uplink start(TapPort tap, SwitchQueue switchQueue, Forwarder forwarder) throws IOException {
        Uplink uplink;
        try {
            uplink = new Uplink(tap, switchQueue, forwarder);
        } catch (IOException | RuntimeException e) {
            forwarder.close();
            tap.close();
            throw e;
        }
        uplink.thread.start();
        return uplink;
    }

    /** The port as the switch's stats see it. */
    public SwitchMember member() {
        return switchQueue.member();
    }

    /**
     * Sets the TAP's offloads to the GUEST_* ones among {@code guestFeatures}, what every guest
     * takes (see {@link L2Switch#guestFeaturesChanged}); the thread reading the TAP goes on
     * meanwhile. A TAP that refuses keeps the offloads it had, and frames a guest cannot take
     * are dropped and counted for it.
     */
    void offerOffloads(long guestFeatures) {
        try {
            tap.negotiated(Feature.VERSION_1.mask() | guestFeatures & tap.offloadFeatures(), HEADER);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, tap.describe() + ": cannot set the offloads the guests take: "
                    + e.getMessage());
        }
    }

    private void run() {
        try {
            while (running) {
                try {
                    if (fromHost() + toHost() == 0) {
                        sleep();
                    }
                } catch (IOException | RuntimeException | Error e) {
                    survive(e);
                }
            }
        } finally {
            forwarder.close();
        }
    }

    /** Host frames into the switch, until the TAP has none, a burst is done or a full port holds one back. */
    private int fromHost() {
        int moved = 0;
        while (moved < BURST) {
            if (!pending) {
                long length;
                try {
                    length = tapQueue.receive(hostBuffers);
                } catch (IOException e) {
                    warn("reading the TAP", e);
                    break;
                }
                if (length == 0) {
                    break;
                }
                // The scratch holds the largest frame, so a TAP frame is never cut; a short one is counted as such.
                fromHost.wrap(hostPieces, HEADER, Math.max(0, length - HEADER));
                pending = true;
            }
            if (!forwarder.forward(fromHost)) {
                break;
            }
            pending = false;
            moved++;
        }
        return moved;
    }

    /** Frames from the inbox out of the TAP, until it is empty, a burst is done or the TAP is full. */
    private int toHost() {
        hostFull = false;
        int moved = 0;
        while (moved < BURST) {
            long length = switchQueue.inbox.peekLength();
            if (length == 0) {
                break;
            }
            toHostIovecs.clear();
            switchQueue.inbox.gatherOldest(toHostIovecs);
            try {
                if (!tapQueue.transmit(toHost)) {
                    hostFull = true;
                    break;
                }
                switchQueue.popOldest(length);
            } catch (IOException e) {
                warn("writing to the TAP", e);
                switchQueue.dropOldest(SwitchCounter.DROP_PORT_ERROR);
            }
            moved++;
        }
        return moved;
    }

    /**
     * Re-arms the doorbell and looks once more (see {@link Doorbell}), then waits for the TAP
     * (frames unless one is held back, room if it was full), the doorbell (frames for the host,
     * room at a port this one waits for) and the wake-up of {@link #close()}.
     */
    private void sleep() throws NativeIoException {
        switchQueue.doorbell.arm();
        if (!hostFull && switchQueue.inbox.peekLength() != 0 || pending && forwarder.blockedHasRoom()) {
            return;
        }
        int events = (pending ? 0 : LibC.EPOLLIN) | (hostFull ? LibC.EPOLLOUT : 0);
        if (events != tapEvents) {
            epoll.modify(tapQueue.fd(), events, TAP);
            tapEvents = events;
        }
        int count = epoll.wait(ready, -1);
        for (int i = 0; i < count; i++) {
            if (ready.token(i) == WAKEUP) {
                wakeup.read();
            }
        }
    }

    /** A TAP that fails (down, say) is logged once per distinct failure; the frames it refused are counted. */
    private void warn(String what, IOException failure) {
        String description = what + ": " + failure.getMessage();
        if (!description.equals(lastError)) {
            lastError = description;
            LOG.log(System.Logger.Level.WARNING, "uplink " + tap.describe() + ": " + description);
        }
    }

    private void survive(Throwable error) {
        String description = error.toString();
        if (!description.equals(lastError)) {
            lastError = description;
            LOG.log(System.Logger.Level.ERROR, "uplink " + tap.describe() + ": an error; pausing 10 ms and going on"
                    + " (repeats of it are not logged)", error);
        }
        LockSupport.parkNanos(ERROR_PAUSE_NANOS);
    }

    /** Stops the thread, then drops what waits for the host and closes the TAP. */
    @Override
    public void close() {
        running = false;
        try {
            wakeup.signal();
            thread.join();
        } catch (NativeIoException e) {
            throw new IllegalStateException("cannot wake the uplink to stop it", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the uplink stopped", e);
        }
        epoll.close();
        wakeup.close();
        switchQueue.member().close();
        tap.close();
        arena.close();
    }
}
