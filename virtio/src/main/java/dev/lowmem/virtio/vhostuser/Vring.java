package dev.lowmem.virtio.vhostuser;

import dev.lowmem.virtio.device.ActiveQueue;
import dev.lowmem.virtio.device.ActiveQueue.Notifier;
import dev.lowmem.virtio.queue.RingAddresses;
import dev.lowmem.vmm.core.event.EventFd;

/**
 * What the front-end has told the back-end about one ring, and where the ring is in its
 * lifecycle ({@link State}). Control-plane state: one thread only.
 *
 * <pre>
 *   STOPPED --SET_VRING_KICK--> WAITING --ready--> RUNNING
 *      ^                           ^                  |
 *      |                           +-- SET_VRING_ENABLE 0, a new memory table it does not fit,
 *      |                           |   SET_VRING_KICK (and at once on again), a reset
 *      +------- GET_VRING_BASE ----+------------------+
 * </pre>
 *
 * A ring is ready once it has a size, addresses, memory to find them in and, with
 * VHOST_USER_F_PROTOCOL_FEATURES, SET_VRING_ENABLE 1 (the spec's ring states); the session
 * ({@link BackendState}) decides that, and hands a running ring to the device as an
 * {@link ActiveQueue}.
 */
final class Vring implements AutoCloseable {
    /** Where a ring is in its lifecycle. */
    enum State {
        /** No kick eventfd since the session began or GET_VRING_BASE stopped it: the spec's "stopped". */
        STOPPED,
        /** Has a kick (the spec's "started") and waits for what else it needs to run. */
        WAITING,
        /** Served by the device. */
        RUNNING
    }

    final int index;
    int size;
    VringAddress address;
    /** Where the ring resumes: SET_VRING_BASE's value, or the position it reached when it stopped. */
    int base;
    private EventFd kick;
    /** The call and err eventfds, by {@link Notifier#ordinal()}. */
    private final EventFd[] notifiers = new EventFd[Notifier.values().length];
    boolean enabled;
    /** Non-null while the ring runs. */
    private ActiveQueue active;

    Vring(int index) {
        this.index = index;
    }

    State state() {
        return active != null ? State.RUNNING : kick == null ? State.STOPPED : State.WAITING;
    }

    boolean running() {
        return active != null;
    }

    /** The running queue; only while {@link #running()}. */
    ActiveQueue active() {
        return active;
    }

    /** Whether a waiting ring has what it needs to run, besides memory and being enabled. */
    boolean configured() {
        return address != null && size != 0;
    }

    EventFd kick() {
        return kick;
    }

    /** WAITING to RUNNING: the device serves {@code queue} now. */
    void run(ActiveQueue queue) {
        if (state() != State.WAITING) {
            throw new IllegalStateException("ring " + index + " is " + state() + ", not WAITING");
        }
        active = queue;
    }

    /**
     * RUNNING to WAITING: stops the queue and keeps its position as the base to resume from.
     *
     * @return whether the queue had faulted
     */
    boolean stop() {
        boolean faulted = active.fault() != null;
        base = active.stop();
        active = null;
        return faulted;
    }

    /** The ring areas in the front-end's address space: for a packed ring, "avail" and "used" are its event areas. */
    RingAddresses rings() {
        return new RingAddresses(address.desc(), address.avail(), address.used());
    }

    /**
     * Installs {@code next} as the kick eventfd and closes the one it replaces; null makes a ring
     * that does not run STOPPED.
     */
    void replaceKick(EventFd next) {
        if (active != null) {
            throw new IllegalStateException("ring " + index + " runs on its kick; stop it first");
        }
        close(kick);
        kick = next;
    }

    EventFd notifier(Notifier which) {
        return notifiers[which.ordinal()];
    }

    /** Installs {@code next} as the call or err eventfd; the caller closes the one it replaces. */
    void setNotifier(Notifier which, EventFd next) {
        notifiers[which.ordinal()] = next;
    }

    /** Closes the eventfds; the ring has been stopped. */
    @Override
    public void close() {
        replaceKick(null);
        for (Notifier which : Notifier.values()) {
            close(notifier(which));
            setNotifier(which, null);
        }
    }

    static void close(EventFd fd) {
        if (fd != null) {
            fd.close();
        }
    }
}
