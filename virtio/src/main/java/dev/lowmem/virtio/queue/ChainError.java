package dev.lowmem.virtio.queue;

/**
 * What a guest did wrong in one descriptor chain. The chain is still returned to the guest (with
 * written length 0) and counted; the queue goes on.
 */
public enum ChainError {
    /** A descriptor's buffer is not wholly inside guest memory (or its end wraps past 2^64). */
    BUFFER_OUTSIDE_MEMORY("a buffer is not inside guest memory"),
    /** The chain has more descriptors than the queue or its indirect table holds: a loop, most likely. */
    CHAIN_TOO_LONG("the chain is longer than the queue allows (a loop?)"),
    /** A descriptor's {@code next} is not an index of its table. */
    NEXT_OUT_OF_RANGE("a next index is outside its descriptor table"),
    /** An indirect descriptor's length is 0, not a multiple of 16, or more entries than a chain may hold. */
    INDIRECT_LENGTH_INVALID("an indirect table's length is 0, not a multiple of 16, or more than 1024 entries"),
    /** An indirect table is not inside guest memory, or not within one memory region. */
    INDIRECT_TABLE_OUTSIDE_MEMORY("an indirect table is not inside one region of guest memory"),
    /** A descriptor inside an indirect table points at another indirect table. */
    INDIRECT_NESTED("an indirect table holds an indirect descriptor"),
    /** An indirect descriptor also has the NEXT flag (virtio 1.2, 2.7.5.3.1 forbids both). */
    INDIRECT_WITH_NEXT("an indirect descriptor also has the NEXT flag"),
    /** A device-readable buffer follows a device-writable one (virtio 1.2, 2.7.4.2 forbids it). */
    READABLE_AFTER_WRITABLE("a device-readable buffer follows a device-writable one");

    private final String description;

    ChainError(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }
}
