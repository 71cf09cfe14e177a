package dev.lowmem.virtio.vhostuser;

import dev.lowmem.virtio.device.ActiveQueue;
import dev.lowmem.virtio.device.ActiveQueue.Notifier;
import dev.lowmem.virtio.queue.RingAddresses;
import dev.lowmem.vmm.core.event.EventFd;

/**
 * What the front-end has told the back-end about one ring, and the ring's running state. A ring
 * runs, as an {@link ActiveQueue} handed to the device, once it has a size, addresses, a kick
 * eventfd and (with VHOST_USER_F_PROTOCOL_FEATURES) has been enabled; GET_VRING_BASE stops it.
 * Control-plane state: one thread only.
 */
final class Vring implements AutoCloseable {
    final int index;
    int size;
    VringAddress address;
    /** Where the ring resumes: SET_VRING_BASE's value, or the position it reached when it stopped. */
    int base;
    EventFd kick;
    /** The call and err eventfds, by {@link Notifier#ordinal()}. */
    private final EventFd[] notifiers = new EventFd[Notifier.values().length];
    boolean enabled;
    /** Non-null while the ring runs. */
    ActiveQueue active;

    Vring(int index) {
        this.index = index;
    }

    boolean running() {
        return active != null;
    }

    /** The ring areas in the front-end's address space: for a packed ring, "avail" and "used" are its event areas. */
    RingAddresses rings() {
        return new RingAddresses(address.desc(), address.avail(), address.used());
    }

    /** Installs {@code next} as the kick eventfd and closes the one it replaces. */
    void replaceKick(EventFd next) {
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
