package dev.lowmem.virtio.vhostuser;

import dev.lowmem.vmm.core.nativeio.Errno;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import dev.lowmem.vmm.core.socket.UnixSocket;
import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * The back-end's own channel to the front-end: the socket SET_BACKEND_REQ_FD hands over once the
 * protocol feature BACKEND_REQ is negotiated, on which the back-end sends requests of its own
 * (docs/interop/vhost-user.rst, "Back-end message types"). This back-end sends one:
 * VHOST_USER_BACKEND_CONFIG_CHANGE_MSG, when a ring faults and the device needs a reset.
 *
 * <p>With REPLY_ACK negotiated the message asks for an ack. The control plane never waits for it
 * (a front-end that does not answer must not stall the sessions' thread): acks are read, without
 * blocking, before the next message goes out and whenever the session handles a request, and
 * each is logged. Control-plane state: one thread only.
 */
final class BackendChannel implements AutoCloseable {
    /** VHOST_USER_BACKEND_CONFIG_CHANGE_MSG: the device's configuration changed; no payload. */
    static final int CONFIG_CHANGE_MSG = 2;

    private static final System.Logger LOG = System.getLogger(BackendChannel.class.getName());
    private static final MemorySegment EMPTY = Wire.payload(0);

    private final String name;
    private final MessageChannel channel;
    private final boolean asksForAcks;
    private boolean open = true;

    /**
     * @param socket      the front-end's end of its socketpair, as it came with SET_BACKEND_REQ_FD
     * @param asksForAcks whether REPLY_ACK was negotiated: messages then ask for an ack
     */
    BackendChannel(String name, UnixSocket socket, boolean asksForAcks) throws NativeIoException {
        this.name = name;
        this.asksForAcks = asksForAcks;
        socket.fd().setNonBlocking(true);
        this.channel = new MessageChannel(socket, true);
    }

    /**
     * Sends CONFIG_CHANGE_MSG. A send the socket has no room for (a front-end that reads nothing)
     * is dropped with a log line, never waited for.
     *
     * @return whether the message went out
     */
    boolean configChanged() {
        readAcks();
        if (!open) {
            return false;
        }
        int flags = VhostUserHeader.VERSION | (asksForAcks ? VhostUserHeader.NEED_REPLY : 0);
        try {
            channel.send(CONFIG_CHANGE_MSG, flags, EMPTY);
            return true;
        } catch (NativeIoException e) {
            LOG.log(System.Logger.Level.WARNING, name + ": back-end channel: CONFIG_CHANGE_MSG not sent: " + e.getMessage());
            if (e.errno() != Errno.EAGAIN) {
                end();
            }
            return false;
        }
    }

    /** Reads and logs whatever acks have arrived; a channel the front-end closed or broke ends. */
    void readAcks() {
        while (open) {
            VhostUserMessage ack;
            try {
                ack = channel.read();
            } catch (ProtocolViolationException | IOException e) {
                LOG.log(System.Logger.Level.INFO, name + ": back-end channel closed: " + e.getMessage());
                end();
                return;
            }
            if (ack == null) {
                return;
            }
            ack.closeFds();
            if (ack.code() != CONFIG_CHANGE_MSG || ack.body().byteSize() != Long.BYTES) {
                LOG.log(System.Logger.Level.WARNING, name + ": back-end channel: an answer to message " + ack.code()
                        + " of " + ack.body().byteSize() + " bytes, where only CONFIG_CHANGE_MSG's u64 ack was asked for");
                continue;
            }
            long status = Wire.u64(ack.body(), 0);
            LOG.log(System.Logger.Level.INFO, name + ": the front-end " + (status == 0 ? "handled" : "did not handle")
                    + " CONFIG_CHANGE_MSG (ack " + status + ")");
        }
    }

    boolean isOpen() {
        return open;
    }

    private void end() {
        if (open) {
            open = false;
            channel.close();
        }
    }

    @Override
    public void close() {
        end();
    }
}
