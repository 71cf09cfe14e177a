package dev.lowmem.virtio.vhostuser;

import dev.lowmem.virtio.device.ActiveQueue;
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
    EventFd call;
    EventFd err;
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

    void replaceErr(EventFd next) {
        close(err);
        err = next;
    }

    /** Closes the eventfds; the ring has been stopped. */
    @Override
    public void close() {
        replaceKick(null);
        close(call);
        call = null;
        replaceErr(null);
    }

    private static void close(EventFd fd) {
        if (fd != null) {
            fd.close();
        }
    }
}
