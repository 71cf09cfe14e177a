package dev.lowmem.virtio.vhostuser;

import dev.lowmem.virtio.device.ActiveQueue.Notifier;
import dev.lowmem.virtio.device.VirtioDevice;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * One front-end's session with a device: the vhost-user requests of one connection, carried out
 * on the control-plane thread. This is the dispatch half of a back-end (rust-vmm's request
 * handler): it reads a message, checks it against its request's shape before anything sees it,
 * decodes the payload, calls the {@link BackendState} method named after the request, and sends
 * the reply or the ack. The state, and the rules of what each request may change, are
 * {@link BackendState}'s. A request refused with {@link VhostUserException} becomes an error reply
 * when the front-end asked for one (REPLY_ACK) and the end of the connection otherwise. File
 * descriptors a handler does not keep are closed.
 */
final class BackendSession implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(BackendSession.class.getName());
    private static final long ACK_SUCCESS = 0;
    private static final long ACK_FAILURE = 1;
    private static final FileDescriptor[] NO_FDS = {};

    private final String name;
    private final MessageChannel channel;
    private final BackendState state;
    /** Whether the front-end sent SET_OWNER, the spec's "session start" flag. */
    private boolean settled;
    /** A file descriptor the reply being sent carries (GET_INFLIGHT_FD's), closed once sent. */
    private FileDescriptor replyFd;
    private boolean closed;

    /**
     * @param controlPlane runs a task on the thread that serves this session, soon; called from a
     *                     worker's thread when a ring faults (the session then tells the front-end)
     */
    BackendSession(String name, MessageChannel channel, VirtioDevice device, Executor controlPlane) {
        this.name = name;
        this.channel = channel;
        this.state = new BackendState(name, device, index -> handOver(controlPlane, index));
    }

    /** On the worker's thread: the control plane reports the fault, unless the session ended by then. */
    private void handOver(Executor controlPlane, int faultedRing) {
        try {
            controlPlane.execute(() -> {
                if (!closed) {
                    state.reportFault(faultedRing);
                }
            });
        } catch (RejectedExecutionException loopClosed) {
            // The back-end is closing: no session is left to tell.
        }
    }

    /** The session's guest memory as mapped now, null while its table is empty; on the loop's thread. */
    dev.lowmem.vmm.core.memory.GuestMemory memory() {
        return state.memory();
    }

    /** Whether the front-end has sent SET_OWNER: the session has started, and keeps its connection. */
    boolean settled() {
        return settled;
    }

    /**
     * Handles every message that has arrived.
     *
     * @return false when the session is over: the front-end left, broke the stream, or had a
     *         request refused without asking for a reply
     */
    boolean onReadable() {
        while (true) {
            VhostUserMessage message;
            try {
                message = channel.read();
            } catch (EOFException e) {
                LOG.log(System.Logger.Level.INFO, name + ": front-end disconnected");
                return false;
            } catch (ProtocolViolationException e) {
                LOG.log(System.Logger.Level.WARNING, name + ": closing the connection: " + e.getMessage());
                return false;
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, name + ": closing the connection: reading failed: " + e.getMessage());
                return false;
            }
            if (message == null) {
                state.readBackendAcks();
                return true;
            }
            if (!handle(message)) {
                return false;
            }
        }
    }

    /** {@code -Dlowmem.vhost.trace=true}: every request and reply in the log, as 64-bit words in hex. */
    private static final boolean TRACE = Boolean.getBoolean("lowmem.vhost.trace");

    private static String words(MemorySegment body) {
        StringBuilder text = new StringBuilder();
        long size = Math.min(body.byteSize(), 64);
        for (long at = 0; at + Long.BYTES <= size; at += Long.BYTES) {
            text.append(' ').append(Long.toHexString(Wire.u64(body, at)));
        }
        if (size % Long.BYTES != 0) {
            text.append(" (").append(body.byteSize()).append(" bytes)");
        }
        return text.toString();
    }

    private boolean handle(VhostUserMessage message) {
        Deque<FileDescriptor> fds = new ArrayDeque<>(message.fds());
        try {
            if (message.fdsDiscarded()) {
                throw new VhostUserException(message.name() + ": came with more than " + VhostUserRequest.MAX_FDS
                        + " file descriptors");
            }
            VhostUserRequest request = message.request();
            if (request == null) {
                throw new VhostUserException(message.name() + " is not a request this back-end knows");
            }
            request.checkShape(message.body(), fds.size());
            if (TRACE) {
                LOG.log(System.Logger.Level.INFO, name + ": < " + message.name() + words(message.body())
                        + (fds.isEmpty() ? "" : " +" + fds.size() + " fd"));
            }
            MemorySegment reply = dispatch(request, message.body(), fds);
            if (TRACE && reply != null) {
                LOG.log(System.Logger.Level.INFO, name + ": > " + message.name() + words(reply));
            }
            if (reply != null) {
                send(message, reply, replyFd == null ? NO_FDS : new FileDescriptor[] {replyFd});
            } else if (message.needsReply() && ProtocolFeature.REPLY_ACK.in(state.protocolFeatures())) {
                send(message, Wire.u64Payload(ACK_SUCCESS));
            }
            return true;
        } catch (VhostUserException e) {
            return refuse(message, e.getMessage());
        } catch (NativeIoException e) {
            LOG.log(System.Logger.Level.WARNING, name + ": closing the connection: " + message.name() + ": " + e.getMessage());
            return false;
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, name + ": closing the connection: " + message.name() + " failed", e);
            return false;
        } finally {
            fds.forEach(FileDescriptor::close);
            if (replyFd != null) {
                replyFd.close();
                replyFd = null;
            }
        }
    }

    /** A refused request gets its error reply if the front-end asked for one; otherwise the session ends. */
    private boolean refuse(VhostUserMessage message, String reason) {
        VhostUserRequest request = message.request();
        // An unknown request has no reply of its own we could send, so the ack it asked for is its answer.
        boolean ackable = message.needsReply() && ProtocolFeature.REPLY_ACK.in(state.protocolFeatures())
                && (request == null || !request.replies());
        LOG.log(System.Logger.Level.WARNING, name + ": refused " + reason
                + (ackable ? "" : "; closing the connection, as the front-end asked for no reply to report it in"));
        if (!ackable) {
            return false;
        }
        try {
            send(message, Wire.u64Payload(ACK_FAILURE));
            return true;
        } catch (NativeIoException e) {
            LOG.log(System.Logger.Level.WARNING, name + ": closing the connection: error reply failed: " + e.getMessage());
            return false;
        }
    }

    private void send(VhostUserMessage request, MemorySegment body, FileDescriptor... fds) throws NativeIoException {
        channel.send(request.code(), VhostUserHeader.VERSION | VhostUserHeader.REPLY, body, fds);
    }

    /** Decodes one well-formed request and carries it out; returns its reply body, or null when it has none. */
    private MemorySegment dispatch(VhostUserRequest request, MemorySegment body, Deque<FileDescriptor> fds)
            throws VhostUserException, NativeIoException {
        return switch (request) {
            case GET_FEATURES -> Wire.u64Payload(state.getFeatures());
            case SET_FEATURES -> {
                state.setFeatures(Wire.u64(body, 0));
                yield null;
            }
            case GET_PROTOCOL_FEATURES -> Wire.u64Payload(state.getProtocolFeatures());
            case SET_PROTOCOL_FEATURES -> {
                state.setProtocolFeatures(Wire.u64(body, 0));
                yield null;
            }
            case SET_OWNER -> {
                settled = true;
                yield null;
            }
            case RESET_OWNER -> {
                state.resetOwner();
                yield null;
            }
            case SET_MEM_TABLE -> {
                state.setMemTable(MemoryTableMessage.read(body), fds);
                yield null;
            }
            case ADD_MEM_REG -> {
                state.addMemReg(MemoryRegionMessage.read(body), fds);
                yield null;
            }
            case REM_MEM_REG -> {
                state.remMemReg(MemoryRegionMessage.read(body));
                yield null;
            }
            case GET_MAX_MEM_SLOTS -> Wire.u64Payload(state.getMaxMemSlots());
            case SET_VRING_NUM -> {
                state.setVringNum(VringState.read(body));
                yield null;
            }
            case SET_VRING_ADDR -> {
                state.setVringAddr(VringAddress.read(body));
                yield null;
            }
            case SET_VRING_BASE -> {
                state.setVringBase(VringState.read(body));
                yield null;
            }
            case GET_VRING_BASE -> state.getVringBase(VringState.read(body)).encode();
            case SET_VRING_KICK -> {
                state.setVringKick(VringFile.read(body), fds);
                yield null;
            }
            case SET_VRING_CALL -> {
                state.setNotifier(request, Notifier.CALL, VringFile.read(body), fds);
                yield null;
            }
            case SET_VRING_ERR -> {
                state.setNotifier(request, Notifier.ERR, VringFile.read(body), fds);
                yield null;
            }
            case SET_VRING_ENABLE -> {
                state.setVringEnable(VringState.read(body));
                yield null;
            }
            case GET_QUEUE_NUM -> Wire.u64Payload(state.getQueueNum());
            case GET_CONFIG -> state.getConfig(ConfigSpaceMessage.read(body));
            case SET_CONFIG -> {
                state.setConfig(ConfigSpaceMessage.read(body));
                yield null;
            }
            case SET_STATUS -> {
                state.setStatus(Wire.u64(body, 0));
                yield null;
            }
            case GET_STATUS -> Wire.u64Payload(state.getStatus());
            case SET_LOG_BASE -> {
                state.setLogBase(Wire.u64(body, 0), Wire.u64(body, Long.BYTES), fds);
                // The spec gives it no reply, QEMU waits for one with LOG_SHMFD (to know the
                // back-end logs from now on): a u64 0, as libvhost-user and rust-vmm answer.
                yield Wire.u64Payload(ACK_SUCCESS);
            }
            case GET_INFLIGHT_FD -> {
                InflightMessage asked = InflightMessage.read(body);
                try {
                    InflightRegion.Made made = state.getInflightFd(asked);
                    replyFd = made.fd();
                    yield made.reply().encode();
                } catch (VhostUserException e) {
                    // The spec's refusal: mmap_size 0 and no fd, which QEMU reads as "no inflight
                    // tracking" (hw/virtio/vhost-user.c, vhost_user_get_inflight_fd).
                    LOG.log(System.Logger.Level.WARNING, name + ": GET_INFLIGHT_FD answered with no buffer: " + e.getMessage());
                    yield new InflightMessage(0, 0, asked.numQueues(), asked.queueSize()).encode();
                }
            }
            case SET_INFLIGHT_FD -> {
                state.setInflightFd(InflightMessage.read(body), fds);
                yield null;
            }
            case SET_LOG_FD -> {
                state.setLogFd();
                yield null;
            }
            case SEND_RARP -> {
                state.sendRarp(Wire.u64(body, 0));
                yield null;
            }
            case SET_BACKEND_REQ_FD -> {
                state.setBackendReqFd(fds);
                yield null;
            }
            case NET_SET_MTU -> throw notOffered(request, "protocol feature NET_MTU");
        };
    }

    private static VhostUserException notOffered(VhostUserRequest request, String what) {
        return new VhostUserException(request + ": needs " + what + ", which this back-end does not offer");
    }

    /** Ends the session: rings stopped, the device reset, every mapping and descriptor released. */
    @Override
    public void close() {
        closed = true;
        state.close();
        channel.close();
    }
}
