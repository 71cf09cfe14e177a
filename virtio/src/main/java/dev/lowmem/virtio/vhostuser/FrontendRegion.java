package dev.lowmem.virtio.vhostuser;

import dev.lowmem.vmm.core.nativeio.FileDescriptor;

/**
 * A region of guest memory as a front-end hands it to the back-end: its wire description and the
 * descriptor that backs it (borrowed from the {@link FrontendMemory}; the back-end gets a
 * duplicate).
 */
public record FrontendRegion(MemoryRegionMessage description, FileDescriptor fd) {
}
