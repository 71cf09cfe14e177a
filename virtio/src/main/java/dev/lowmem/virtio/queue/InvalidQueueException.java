package dev.lowmem.virtio.queue;

/** A queue cannot start with the size or ring addresses it was given; the message says which and why. */
public final class InvalidQueueException extends Exception {
    public InvalidQueueException(String message) {
        super(message);
    }
}
