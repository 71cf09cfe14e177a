package dev.lowmem.devices.net;

/**
 * The guest broke a ring (virtio's {@code QueueFault}): the queue stops and waits for a reset.
 * What the guest did is the whole story, so it carries no stack trace.
 */
final class BrokenRingException extends Exception {
    BrokenRingException(String description) {
        super(description, null, false, false);
    }
}
