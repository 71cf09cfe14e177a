package dev.lowmem.virtio.queue;

import dev.lowmem.vmm.core.memory.Translation;

/**
 * Resolves the ring addresses a queue is given: {@code memory::translate} when they are
 * guest-physical, {@code memory::translateFrontend} when a vhost-user frontend sent them.
 */
@FunctionalInterface
public interface RingMemory {
    Translation translate(long address, long length);
}
