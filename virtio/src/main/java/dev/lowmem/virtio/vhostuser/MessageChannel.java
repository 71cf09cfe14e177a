package dev.lowmem.virtio.vhostuser;

import dev.lowmem.vmm.core.nativeio.Errno;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import dev.lowmem.vmm.core.socket.Received;
import dev.lowmem.vmm.core.socket.UnixSocket;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * Frames vhost-user messages on a UNIX socket, in both directions. Reading is incremental: on a
 * non-blocking socket {@link #read()} takes what has arrived and says when a message is not whole
 * yet, so a peer that sends half a header cannot stall the thread serving it. The header and the
 * payload are read with exact lengths, so one {@code recvmsg} never runs into the next message
 * (whose descriptors would then arrive with the wrong one).
 *
 * <p>Control-plane code: it allocates per message and is used by one thread at a time.
 */
public final class MessageChannel implements AutoCloseable {
    /**
     * Room for an unknown request's payload, so it can be read past and refused while the stream
     * stays in step; a header announcing more than this is a broken stream.
     */
    static final int MAX_READABLE_PAYLOAD = 4096;

    private final UnixSocket socket;
    private final boolean readsReplies;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment buffer = arena.allocate(VhostUserHeader.SIZE + MAX_READABLE_PAYLOAD, 8);
    private final List<FileDescriptor> pendingFds = new ArrayList<>();
    private boolean pendingFdsDiscarded;
    private int filled;

    /**
     * @param readsReplies true on the front-end, which reads replies (reply flag set), false on the
     *                     back-end, which reads requests (reply flag clear)
     */
    public MessageChannel(UnixSocket socket, boolean readsReplies) {
        this.socket = socket;
        this.readsReplies = readsReplies;
    }

    /**
     * Reads on towards the next message.
     *
     * @return the message once it is whole; null when the socket has no more bytes for now
     * @throws EOFException when the peer closed the connection between messages
     * @throws ProtocolViolationException when the stream cannot be read on: wrong version bits or
     *         reply flag, a payload too large, or the peer gone inside a message
     */
    public VhostUserMessage read() throws IOException, ProtocolViolationException {
        while (true) {
            int wanted = filled < VhostUserHeader.SIZE ? VhostUserHeader.SIZE : VhostUserHeader.SIZE + payloadSize();
            if (filled == wanted) {
                return takeMessage();
            }
            Received received;
            try {
                received = socket.receive(buffer.asSlice(filled, wanted - filled),
                        VhostUserRequest.MAX_FDS - pendingFds.size());
            } catch (NativeIoException e) {
                if (e.errno() == Errno.EAGAIN) {
                    return null;
                }
                if (e.errno() != Errno.ECONNRESET) {
                    throw e;
                }
                // A peer that closes with our request unread resets the connection: it is gone all the same.
                received = null;
            }
            if (received == null || received.endOfStream()) {
                discardPending();
                if (filled == 0) {
                    throw new EOFException("peer closed the connection");
                }
                throw new ProtocolViolationException("peer closed the connection inside a message, after " + filled
                        + " bytes");
            }
            pendingFds.addAll(received.fds());
            pendingFdsDiscarded |= received.fdsDiscarded();
            filled += (int) received.bytes();
            if (filled == VhostUserHeader.SIZE) {
                checkHeader();
            }
        }
    }

    private int payloadSize() {
        return buffer.get(ValueLayout.JAVA_INT, VhostUserHeader.SIZE_OFFSET);
    }

    private void checkHeader() throws ProtocolViolationException {
        int code = buffer.get(ValueLayout.JAVA_INT, VhostUserHeader.REQUEST_OFFSET);
        int flags = buffer.get(ValueLayout.JAVA_INT, VhostUserHeader.FLAGS_OFFSET);
        int size = payloadSize();
        String what = VhostUserRequest.nameOf(code);
        if ((flags & VhostUserHeader.VERSION_MASK) != VhostUserHeader.VERSION) {
            discardPending();
            throw new ProtocolViolationException(what + ": version bits 0x" + Integer.toHexString(flags & VhostUserHeader.VERSION_MASK)
                    + " in flags 0x" + Integer.toHexString(flags) + "; only version 1 is spoken");
        }
        if (((flags & VhostUserHeader.REPLY) != 0) != readsReplies) {
            discardPending();
            throw new ProtocolViolationException(what + ": flags 0x" + Integer.toHexString(flags)
                    + (readsReplies ? " lack" : " carry") + " the reply bit");
        }
        if (size < 0 || size > MAX_READABLE_PAYLOAD) {
            discardPending();
            throw new ProtocolViolationException(what + ": header announces a payload of "
                    + Integer.toUnsignedString(size) + " bytes, more than the " + MAX_READABLE_PAYLOAD
                    + " read past for any request (the largest known takes " + VhostUserRequest.MAX_PAYLOAD + ")");
        }
    }

    private VhostUserMessage takeMessage() {
        int code = buffer.get(ValueLayout.JAVA_INT, VhostUserHeader.REQUEST_OFFSET);
        int flags = buffer.get(ValueLayout.JAVA_INT, VhostUserHeader.FLAGS_OFFSET);
        byte[] payload = buffer.asSlice(VhostUserHeader.SIZE, payloadSize()).toArray(ValueLayout.JAVA_BYTE);
        VhostUserMessage message = new VhostUserMessage(code, flags, MemorySegment.ofArray(payload),
                List.copyOf(pendingFds), pendingFdsDiscarded);
        pendingFds.clear();
        pendingFdsDiscarded = false;
        filled = 0;
        return message;
    }

    private void discardPending() {
        pendingFds.forEach(FileDescriptor::close);
        pendingFds.clear();
    }

    /** Sends one message; the descriptors stay the caller's (the peer gets duplicates). */
    public void send(int code, int flags, MemorySegment body, FileDescriptor... fds) throws NativeIoException {
        try (Arena message = Arena.ofConfined()) {
            MemorySegment bytes = message.allocate(VhostUserHeader.SIZE + body.byteSize(), 8);
            bytes.set(ValueLayout.JAVA_INT, VhostUserHeader.REQUEST_OFFSET, code);
            bytes.set(ValueLayout.JAVA_INT, VhostUserHeader.FLAGS_OFFSET, flags);
            bytes.set(ValueLayout.JAVA_INT, VhostUserHeader.SIZE_OFFSET, (int) body.byteSize());
            MemorySegment.copy(body, 0, bytes, VhostUserHeader.SIZE, body.byteSize());
            socket.send(bytes, fds);
        }
    }

    public UnixSocket socket() {
        return socket;
    }

    /** Closes the socket and any descriptors of a message that never became whole. */
    @Override
    public void close() {
        discardPending();
        socket.close();
        arena.close();
    }
}
