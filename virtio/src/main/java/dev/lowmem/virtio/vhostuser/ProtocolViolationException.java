package dev.lowmem.virtio.vhostuser;

/**
 * The byte stream itself is broken (wrong version bits, a payload larger than any request has,
 * end of stream inside a message): nothing after it can be trusted, so the connection closes.
 */
public final class ProtocolViolationException extends VhostUserException {
    public ProtocolViolationException(String message) {
        super(message);
    }
}
