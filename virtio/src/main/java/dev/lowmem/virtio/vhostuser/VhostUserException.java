package dev.lowmem.virtio.vhostuser;

/**
 * A vhost-user request that cannot be carried out: malformed, not allowed in the session's state,
 * or refused by the device. The message names the request's subject and the offending value.
 */
public class VhostUserException extends Exception {
    public VhostUserException(String message) {
        super(message);
    }

    public VhostUserException(String message, Throwable cause) {
        super(message, cause);
    }
}
