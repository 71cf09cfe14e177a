package dev.lowmem.vmm.core.event;

import dev.lowmem.vmm.core.nativeio.NativeIoException;

/**
 * Something a device raises to tell its driver: a vhost-user call eventfd, an embedding VMM's
 * irqfd ({@link EventFd} is one), or a VMM's own interrupt routine. Called on a datapath thread,
 * so it must not block.
 */
@FunctionalInterface
public interface Signal {
    void signal() throws NativeIoException;
}
