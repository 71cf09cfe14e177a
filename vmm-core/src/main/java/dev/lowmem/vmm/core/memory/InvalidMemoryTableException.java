package dev.lowmem.vmm.core.memory;

/** A memory table the frontend sent cannot be mapped as given; the message names the region and the fault. */
public final class InvalidMemoryTableException extends Exception {
    public InvalidMemoryTableException(String message) {
        super(message);
    }
}
