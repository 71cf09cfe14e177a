package dev.lowmem.virtio.vhostuser;

import dev.lowmem.vmm.core.event.EventFd;
import dev.lowmem.vmm.core.nativeio.Errno;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import dev.lowmem.vmm.core.socket.UnixSocket;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Our own vhost-user front-end, the counterpart of QEMU, for whatever plays QEMU's part against the
 * back-end: one method per request, over a blocking socket, each waiting for its reply. Every reply is checked (request code, reply flag, size); once REPLY_ACK
 * is negotiated, requests without a reply of their own ask for an ack and a non-zero one throws.
 *
 * <p>{@link #send} and {@link #readReply()} are there for tests that feed the back-end malformed
 * messages and look at whatever comes back. One thread at a time.
 */
public final class VhostUserFrontend implements AutoCloseable {
    private static final long CONNECT_RETRY_MILLIS = 20;
    private static final MemorySegment EMPTY = Wire.payload(0);
    private static final FileDescriptor[] NO_FDS = {};

    private final MessageChannel channel;
    private boolean replyAck;
    /** Whether any reply came yet: a back-end that closes before the first has turned us away. */
    private boolean answered;

    private VhostUserFrontend(UnixSocket socket) {
        this.channel = new MessageChannel(socket, true);
    }

    /**
     * Connects to the back-end listening at {@code socketPath}, retrying while the path does not
     * exist yet or nothing listens on it (a back-end still starting).
     *
     * @throws IOException naming the path when nothing accepted within {@code timeout}
     */
    public static VhostUserFrontend connect(Path socketPath, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                return new VhostUserFrontend(UnixSocket.connect(socketPath));
            } catch (NativeIoException e) {
                boolean notYet = e.errno() == Errno.ENOENT || e.errno() == Errno.ECONNREFUSED;
                if (!notYet || System.nanoTime() - deadline >= 0) {
                    throw new IOException("no vhost-user backend accepted a connection at " + socketPath + " within "
                            + timeout.toMillis() + " ms", e);
                }
            }
            Thread.sleep(CONNECT_RETRY_MILLIS);
        }
    }

    /** A front-end on a connected socket, such as one a {@code UnixServerSocket} accepted. */
    public static VhostUserFrontend over(UnixSocket socket) {
        return new VhostUserFrontend(socket);
    }

    public long getFeatures() throws IOException, VhostUserException {
        return query(VhostUserRequest.GET_FEATURES);
    }

    public void setFeatures(long features) throws IOException, VhostUserException {
        request(VhostUserRequest.SET_FEATURES, Wire.u64Payload(features));
    }

    public long getProtocolFeatures() throws IOException, VhostUserException {
        return query(VhostUserRequest.GET_PROTOCOL_FEATURES);
    }

    /** Sends the protocol features; REPLY_ACK among them makes every later request wait for an ack. */
    public void setProtocolFeatures(long features) throws IOException, VhostUserException {
        request(VhostUserRequest.SET_PROTOCOL_FEATURES, Wire.u64Payload(features));
        replyAck = ProtocolFeature.REPLY_ACK.in(features);
    }

    public void setOwner() throws IOException, VhostUserException {
        request(VhostUserRequest.SET_OWNER, EMPTY);
    }

    public void resetOwner() throws IOException, VhostUserException {
        request(VhostUserRequest.RESET_OWNER, EMPTY);
    }

    /** Sends the table as given, even one the back-end must refuse. */
    public void setMemTable(List<FrontendRegion> regions) throws IOException, VhostUserException {
        List<MemoryRegionMessage> descriptions = regions.stream().map(FrontendRegion::description).toList();
        FileDescriptor[] fds = regions.stream().map(FrontendRegion::fd).toArray(FileDescriptor[]::new);
        request(VhostUserRequest.SET_MEM_TABLE, MemoryTableMessage.encode(descriptions), fds);
    }

    public void addMemReg(FrontendRegion region) throws IOException, VhostUserException {
        request(VhostUserRequest.ADD_MEM_REG, region.description().encode(), region.fd());
    }

    /** Sends the region's description alone: the fd is the one the spec tolerates, not one it asks for. */
    public void remMemReg(FrontendRegion region) throws IOException, VhostUserException {
        request(VhostUserRequest.REM_MEM_REG, region.description().encode());
    }

    /**
     * SET_BACKEND_REQ_FD (protocol feature BACKEND_REQ): makes a socketpair, sends the back-end one
     * end, as QEMU does, and returns a channel on the other, on which the back-end's own requests
     * arrive (docs/interop/vhost-user.rst, "Back-end message types"). The caller reads them, sends
     * the acks they ask for ({@code NEED_REPLY}) and closes it.
     */
    public MessageChannel setBackendReqFd() throws IOException, VhostUserException {
        UnixSocket[] pair = UnixSocket.pair();
        try {
            request(VhostUserRequest.SET_BACKEND_REQ_FD, EMPTY, pair[1].fd());
        } catch (IOException | VhostUserException | RuntimeException e) {
            pair[0].close();
            throw e;
        } finally {
            pair[1].close();
        }
        return new MessageChannel(pair[0], false);
    }

    public void setVringNum(int index, int num) throws IOException, VhostUserException {
        request(VhostUserRequest.SET_VRING_NUM, new VringState(index, num).encode());
    }

    public void setVringAddr(VringAddress address) throws IOException, VhostUserException {
        request(VhostUserRequest.SET_VRING_ADDR, address.encode());
    }

    public void setVringBase(int index, int base) throws IOException, VhostUserException {
        request(VhostUserRequest.SET_VRING_BASE, new VringState(index, base).encode());
    }

    /** Stops queue {@code index} and returns where the back-end got to in it. */
    public int getVringBase(int index) throws IOException, VhostUserException {
        send(VhostUserRequest.GET_VRING_BASE, VhostUserHeader.VERSION, new VringState(index, 0).encode());
        VringState state = VringState.read(reply(VhostUserRequest.GET_VRING_BASE, VringState.SIZE));
        if (state.index() != index) {
            throw new VhostUserException("GET_VRING_BASE: asked about queue " + index + ", the reply is about queue "
                    + state.index());
        }
        return state.num();
    }

    /** @param kick the eventfd the front-end signals, or null for none: the back-end then polls */
    public void setVringKick(int index, EventFd kick) throws IOException, VhostUserException {
        vringFile(VhostUserRequest.SET_VRING_KICK, index, kick);
    }

    /** @param call the eventfd the back-end signals, or null for none */
    public void setVringCall(int index, EventFd call) throws IOException, VhostUserException {
        vringFile(VhostUserRequest.SET_VRING_CALL, index, call);
    }

    /** @param err the eventfd the back-end signals on a queue error, or null for none */
    public void setVringErr(int index, EventFd err) throws IOException, VhostUserException {
        vringFile(VhostUserRequest.SET_VRING_ERR, index, err);
    }

    private void vringFile(VhostUserRequest request, int index, EventFd eventFd) throws IOException, VhostUserException {
        MemorySegment body = VringFile.of(index, eventFd == null).encode();
        request(request, body, eventFd == null ? NO_FDS : new FileDescriptor[] {eventFd.fd()});
    }

    public long getQueueNum() throws IOException, VhostUserException {
        return query(VhostUserRequest.GET_QUEUE_NUM);
    }

    public void setVringEnable(int index, boolean enable) throws IOException, VhostUserException {
        request(VhostUserRequest.SET_VRING_ENABLE, new VringState(index, enable ? 1 : 0).encode());
    }

    /**
     * Reads {@code size} bytes of the device's config space from {@code offset}.
     *
     * @throws VhostUserException when the back-end refuses (the spec's empty reply)
     */
    public byte[] getConfig(int offset, int size) throws IOException, VhostUserException {
        VhostUserRequest request = VhostUserRequest.GET_CONFIG;
        send(request, VhostUserHeader.VERSION, new ConfigSpaceMessage(offset, 0, new byte[size]).encode());
        MemorySegment body = reply(request);
        if (body.byteSize() == 0) {
            throw new VhostUserException("backend refused GET_CONFIG of " + size + " bytes at offset " + offset);
        }
        checkSize(request, body, ConfigSpaceMessage.HEADER_SIZE + size);
        return ConfigSpaceMessage.read(body).data();
    }

    /** @param flags 0 for a driver's write, {@link ConfigSpaceMessage#FLAG_MIGRATION} for migration */
    public void setConfig(int offset, int flags, byte[] data) throws IOException, VhostUserException {
        request(VhostUserRequest.SET_CONFIG, new ConfigSpaceMessage(offset, flags, data).encode());
    }

    public void setStatus(int status) throws IOException, VhostUserException {
        request(VhostUserRequest.SET_STATUS, Wire.u64Payload(status));
    }

    public long getStatus() throws IOException, VhostUserException {
        return query(VhostUserRequest.GET_STATUS);
    }

    /**
     * Hands the back-end a dirty-page log, {@code size} bytes from {@code offset} of {@code log}
     * (needs LOG_SHMFD), and waits for its reply, as QEMU does: once it came, the back-end marks
     * the log.
     */
    public void setLogBase(FileDescriptor log, long size, long offset) throws IOException, VhostUserException {
        MemorySegment body = Wire.payload(2 * Long.BYTES);
        Wire.putU64(body, 0, size);
        Wire.putU64(body, Long.BYTES, offset);
        send(VhostUserRequest.SET_LOG_BASE, VhostUserHeader.VERSION, body, log);
        long ack = Wire.u64(reply(VhostUserRequest.SET_LOG_BASE, Long.BYTES), 0);
        if (ack != 0) {
            throw new VhostUserException("backend refused SET_LOG_BASE (reply " + ack + ")");
        }
    }

    /**
     * SEND_RARP with {@code mac} in the first six bytes of the u64, as QEMU sends it after a
     * migration (needs the protocol feature RARP); with REPLY_ACK it waits for the ack.
     */
    public void sendRarp(byte[] mac) throws IOException, VhostUserException {
        long payload = 0;
        for (int i = 0; i < 6; i++) {
            payload |= (mac[i] & 0xFFL) << (8 * i);
        }
        request(VhostUserRequest.SEND_RARP, Wire.u64Payload(payload));
    }

    /** GET_INFLIGHT_FD's answer: the buffer's description and its memfd, the caller's to keep and close. */
    public record Inflight(InflightMessage description, FileDescriptor fd) {
    }

    /**
     * Asks the back-end for an inflight buffer for {@code numQueues} queues of {@code queueSize}
     * (needs INFLIGHT_SHMFD), as QEMU's vhost-user-blk does before it starts the device. Keep it
     * across the back-end's crash and hand it back with {@link #setInflightFd}.
     */
    public Inflight getInflightFd(int numQueues, int queueSize) throws IOException, VhostUserException {
        VhostUserRequest request = VhostUserRequest.GET_INFLIGHT_FD;
        send(request, VhostUserHeader.VERSION, new InflightMessage(0, 0, numQueues, queueSize).encode());
        VhostUserMessage message = message(request);
        if (message.fds().isEmpty() && message.body().byteSize() == InflightMessage.SIZE
                && InflightMessage.read(message.body()).mmapSize() == 0) {
            throw new VhostUserException("backend refused " + request + " (mmap_size 0, no buffer)");
        }
        if (message.fds().size() != 1) {
            message.closeFds();
            throw new VhostUserException(request + ": the reply came with " + message.fds().size()
                    + " file descriptors; it carries the buffer's");
        }
        try {
            checkSize(request, message.body(), InflightMessage.SIZE);
        } catch (VhostUserException e) {
            message.closeFds();
            throw e;
        }
        return new Inflight(InflightMessage.read(message.body()), message.fds().getFirst());
    }

    /** Hands the back-end the inflight buffer it made, in this session or an earlier one. */
    public void setInflightFd(InflightMessage description, FileDescriptor fd) throws IOException, VhostUserException {
        request(VhostUserRequest.SET_INFLIGHT_FD, description.encode(), fd);
    }

    public long getMaxMemSlots() throws IOException, VhostUserException {
        return query(VhostUserRequest.GET_MAX_MEM_SLOTS);
    }

    /** An empty request whose reply is a u64. */
    private long query(VhostUserRequest request) throws IOException, VhostUserException {
        send(request, VhostUserHeader.VERSION, EMPTY);
        return Wire.u64(reply(request, Long.BYTES), 0);
    }

    /** A request without a reply of its own: with REPLY_ACK it asks for one and checks it. */
    private void request(VhostUserRequest request, MemorySegment body, FileDescriptor... fds)
            throws IOException, VhostUserException {
        send(request, replyAck ? VhostUserHeader.VERSION | VhostUserHeader.NEED_REPLY : VhostUserHeader.VERSION,
                body, fds);
        if (replyAck) {
            long ack = awaitAck(request);
            if (ack != 0) {
                throw new VhostUserException("backend refused " + request + " (ack " + ack + ")");
            }
        }
    }

    /** Sends one message exactly as given: any code, flags (version bits included) and fds. */
    public void send(int code, int flags, MemorySegment body, FileDescriptor... fds) throws NativeIoException {
        channel.send(code, flags, body, fds);
    }

    /** Sends a request; a back-end already gone is reported as for a reply that never came. */
    private void send(VhostUserRequest request, int flags, MemorySegment body, FileDescriptor... fds)
            throws IOException, VhostUserException {
        try {
            send(request.code(), flags, body, fds);
        } catch (NativeIoException e) {
            if (e.errno() != Errno.EPIPE && e.errno() != Errno.ECONNRESET) {
                throw e;
            }
            throw closedBefore(request, e);
        }
    }

    private VhostUserException closedBefore(VhostUserRequest request, Exception cause) {
        return new VhostUserException("backend closed the connection before answering " + request
                + (answered ? "" : "; it serves one front-end at a time and may already have one"), cause);
    }

    /**
     * Reads the u64 that answers {@code request} sent with NEED_REPLY: 0 for success.
     *
     * @throws VhostUserException when the back-end closes instead, or answers something else
     */
    public long awaitAck(VhostUserRequest request) throws IOException, VhostUserException {
        return Wire.u64(reply(request, Long.BYTES), 0);
    }

    /**
     * Reads the next message as it comes, checking only its framing.
     *
     * @throws EOFException when the back-end closed the connection
     */
    public VhostUserMessage readReply() throws IOException, VhostUserException {
        VhostUserMessage message = channel.read();
        if (message == null) {
            throw new IllegalStateException("the front-end's socket was made non-blocking; it reads replies blocking");
        }
        return message;
    }

    private MemorySegment reply(VhostUserRequest request, int size) throws IOException, VhostUserException {
        MemorySegment body = reply(request);
        checkSize(request, body, size);
        return body;
    }

    private MemorySegment reply(VhostUserRequest request) throws IOException, VhostUserException {
        VhostUserMessage message = message(request);
        message.closeFds();
        if (!message.fds().isEmpty() || message.fdsDiscarded()) {
            throw new VhostUserException(request + ": the reply came with file descriptors; replies carry none");
        }
        return message.body();
    }

    /** The reply to {@code request}, its file descriptors still open. */
    private VhostUserMessage message(VhostUserRequest request) throws IOException, VhostUserException {
        VhostUserMessage message;
        try {
            message = readReply();
        } catch (EOFException e) {
            throw closedBefore(request, e);
        }
        answered = true;
        if (message.code() != request.code()) {
            message.closeFds();
            throw new VhostUserException("waiting for the reply to " + request + ", got one to " + message.name());
        }
        return message;
    }

    private static void checkSize(VhostUserRequest request, MemorySegment body, int size) throws VhostUserException {
        if (body.byteSize() != size) {
            throw new VhostUserException(request + ": reply of " + body.byteSize() + " bytes; it takes " + size);
        }
    }

    @Override
    public void close() {
        channel.close();
    }
}
