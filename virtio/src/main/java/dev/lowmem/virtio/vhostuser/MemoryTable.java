package dev.lowmem.virtio.vhostuser;

import dev.lowmem.vmm.core.memory.GuestMemory;
import dev.lowmem.vmm.core.memory.GuestRegion;
import dev.lowmem.vmm.core.memory.InvalidMemoryTableException;
import dev.lowmem.vmm.core.memory.Memfd;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;

/**
 * A session's memory table: the regions the front-end sent (SET_MEM_TABLE, ADD_MEM_REG,
 * REM_MEM_REG), each with the fd it is mapped from, and the {@link GuestMemory} they are mapped as.
 * A change makes the new table first, the heavy part, and commits only once that worked, so a
 * refused change leaves the table as it was. SET_MEM_TABLE maps every region of its table;
 * ADD_MEM_REG maps the one region it adds and REM_MEM_REG maps nothing, the new table holding the
 * other regions' mappings with the old one ({@link GuestMemory#withRegion},
 * {@link GuestMemory#withoutRegion}). It does not touch the rings: the caller moves the running
 * ones onto {@link Change#current()} and only then retires {@link Change#previous()}, which
 * unmaps only what the current table does not hold.
 * Control-plane state: one thread only.
 */
final class MemoryTable implements AutoCloseable {
    /**
     * Regions a memory table may hold through ADD_MEM_REG (GET_MAX_MEM_SLOTS): 509, QEMU's
     * VHOST_USER_MAX_RAM_SLOTS, as libvhost-user and rust-vmm answer (a KVM machine has 512
     * memory slots, and QEMU keeps a few for itself). Translation is a binary search over the
     * regions by address (AddressSpace), about nine steps with all of them.
     */
    static final int MAX_MEM_SLOTS = 509;

    private static final System.Logger LOG = System.getLogger(MemoryTable.class.getName());

    private final String name;
    /** The table's regions in the order of {@link #memory}'s, each with the fd it is mapped from. */
    private final List<MappedRegion> regions = new ArrayList<>();
    private GuestMemory memory;

    /**
     * What a change did: the mapping now current (null for an empty table) and the one it
     * replaced, to close once no ring reads it any more.
     */
    record Change(GuestMemory current, GuestMemory previous) {
    }

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

    MemoryTable(String name) {
        this.name = name;
    }

    /** The current mapping, null while the table is empty. */
    GuestMemory memory() {
        return memory;
    }

    int regionCount() {
        return regions.size();
    }

    /**
     * SET_MEM_TABLE: the table becomes exactly {@code table}. The fds stay in {@code fds} until the
     * table is mapped: a refused table leaves them to the session, which closes every fd a
     * handler did not take.
     */
    Change set(List<MemoryRegionMessage> table, Deque<FileDescriptor> fds) throws VhostUserException {
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
        return commit(mapped);
    }

    /** ADD_MEM_REG; null when the region was in the table already and nothing changed. */
    Change add(MemoryRegionMessage description, Deque<FileDescriptor> fds) throws VhostUserException {
        Optional<MappedRegion> same = regionLike(description);
        if (same.isPresent()) {
            // Mapped already; the fd that came with it is closed with the message's others.
            same.get().additions++;
            return null;
        }
        if (regions.size() == MAX_MEM_SLOTS) {
            throw new VhostUserException("ADD_MEM_REG " + description + ": the memory table is full: it holds "
                    + MAX_MEM_SLOTS + " regions, the most GET_MAX_MEM_SLOTS allows; remove one with REM_MEM_REG first");
        }
        MappedRegion added = new MappedRegion(description, fds.getFirst());
        sealAgainstShrinking(List.of(added));
        GuestMemory mapped;
        try {
            mapped = memory == null ? GuestMemory.map(List.of(added.guestRegion())) : memory.withRegion(added.guestRegion());
        } catch (InvalidMemoryTableException | NativeIoException e) {
            throw new VhostUserException("ADD_MEM_REG " + description + " to a table of " + regions.size()
                    + " regions: " + e.getMessage(), e);
        }
        fds.removeFirst();
        regions.add(added);
        return commit(mapped);
    }

    /** REM_MEM_REG; null when the region stays, added more often than removed. */
    Change remove(MemoryRegionMessage description) throws VhostUserException {
        MappedRegion removed = regionLike(description).orElseThrow(() -> new VhostUserException("REM_MEM_REG "
                + description + ": no such region in the table"));
        if (removed.additions > 1) {
            removed.additions--;
            return null;
        }
        int index = regions.indexOf(removed);
        GuestMemory mapped = regions.size() == 1 ? null : memory.withoutRegion(index);
        regions.remove(index);
        removed.fd().close();
        return commit(mapped);
    }

    private Change commit(GuestMemory next) {
        GuestMemory previous = memory;
        memory = next;
        return new Change(next, previous);
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

    /** Unmaps the table and closes its fds; the rings that read it have stopped. */
    @Override
    public void close() {
        if (memory != null) {
            memory.close();
            memory = null;
        }
        regions.forEach(region -> region.fd().close());
        regions.clear();
    }
}
