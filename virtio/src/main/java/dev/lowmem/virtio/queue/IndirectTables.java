package dev.lowmem.virtio.queue;

import java.lang.foreign.MemorySegment;

/**
 * Guest memory a driver keeps for indirect descriptor tables: one table of
 * {@link #entriesPerTable(int)} entries per chain id, table {@code id} at
 * {@code address + id * stride}.
 *
 * @param area    the memory, as the driver writes it
 * @param address where it is in the address space the device resolves descriptors in
 */
public record IndirectTables(MemorySegment area, long address) {
    private static final IndirectTables NONE = new IndirectTables(MemorySegment.NULL, 0);

    /** For a driver that never posts indirect chains. */
    public static IndirectTables none() {
        return NONE;
    }

    /** How many entries each of a queue's {@code queueSize} tables has room for. */
    public int entriesPerTable(int queueSize) {
        return (int) Math.min(area.byteSize() / queueSize / IndirectTable.ENTRY_SIZE, QueueLayout.MAX_SIZE);
    }

    long tableOffset(int id, int queueSize) {
        return (long) id * entriesPerTable(queueSize) * IndirectTable.ENTRY_SIZE;
    }
}
