package dev.lowmem.vmm.core.memory;

import dev.lowmem.vmm.core.nativeio.FileDescriptor;

/**
 * One region of guest memory as the frontend describes it (vhost-user's
 * {@code VhostUserMemoryRegion}), with the descriptor that backs it.
 *
 * @param guestPhysAddr    where the region starts in guest-physical address space
 * @param size             its length in bytes
 * @param frontendVirtAddr where the frontend (QEMU) has it mapped; ring addresses arrive in this space
 * @param mmapOffset       where the region starts inside {@code fd}
 * @param fd               the shared memory (memfd or hugetlbfs file) behind the region; borrowed,
 *                         not owned: mapping does not close it
 */
public record GuestRegion(long guestPhysAddr, long size, long frontendVirtAddr, long mmapOffset, FileDescriptor fd) {
}
