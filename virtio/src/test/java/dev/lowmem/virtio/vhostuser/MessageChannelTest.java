package dev.lowmem.virtio.vhostuser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.vmm.core.event.EventFd;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.socket.UnixSocket;
import dev.lowmem.vmm.core.testing.ProcSelf;
import java.io.EOFException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class MessageChannelTest {
    private final Arena arena = Arena.ofConfined();
    /** The front-end's end, writing raw bytes; the back-end reads requests through {@link #backend}. */
    private UnixSocket frontend;
    private MessageChannel backend;

    @BeforeEach
    void connect() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        frontend = pair[0];
        backend = new MessageChannel(pair[1], false);
    }

    @AfterEach
    void close() {
        frontend.close();
        backend.close();
        arena.close();
    }

    @Test
    void aRequestArrivesWithItsPayloadAndADescriptorNamingTheSameEventfd() throws Exception {
        try (MessageChannel sender = new MessageChannel(frontend, true); EventFd kick = EventFd.create()) {
            sender.send(VhostUserRequest.SET_VRING_KICK.code(), VhostUserHeader.VERSION | VhostUserHeader.NEED_REPLY,
                    VringFile.of(1, false).encode(), kick.fd());

            VhostUserMessage message = backend.read();

            assertEquals(VhostUserRequest.SET_VRING_KICK, message.request());
            assertTrue(message.needsReply());
            assertEquals(VringFile.of(1, false), VringFile.read(message.body()));
            assertEquals(1, message.fds().size());
            assertFalse(message.fdsDiscarded());
            try (EventFd received = EventFd.adopt(message.fds().getFirst())) {
                kick.signal();
                assertEquals(1, received.read());
            }
        }
    }

    @Test
    void aMessageArrivingInPiecesIsNotReturnedUntilWhole() throws Exception {
        backend.socket().fd().setNonBlocking(true);
        MemorySegment frame = frame(VhostUserRequest.SET_VRING_NUM.code(), VhostUserHeader.VERSION,
                new VringState(0, 256).encode());

        assertNull(backend.read(), "nothing sent yet");
        frontend.send(frame.asSlice(0, 5));
        assertNull(backend.read(), "part of the header");
        frontend.send(frame.asSlice(5, VhostUserHeader.SIZE - 5 + 3));
        assertNull(backend.read(), "the header and part of the payload");
        frontend.send(frame.asSlice(VhostUserHeader.SIZE + 3));
        VhostUserMessage message = backend.read();

        assertEquals(VhostUserRequest.SET_VRING_NUM, message.request());
        assertEquals(new VringState(0, 256), VringState.read(message.body()));
        assertNull(backend.read(), "nothing after it");
    }

    @Test
    void versionBitsOtherThanOneBreakTheStream() throws Exception {
        frontend.send(frame(VhostUserRequest.GET_FEATURES.code(), 0x2, Wire.payload(0)));

        ProtocolViolationException e = assertThrows(ProtocolViolationException.class, backend::read);
        assertTrue(e.getMessage().contains("version bits 0x2"), e.getMessage());
    }

    @Test
    void aRequestCarryingTheReplyFlagBreaksTheStream() throws Exception {
        frontend.send(frame(VhostUserRequest.GET_FEATURES.code(), VhostUserHeader.VERSION | VhostUserHeader.REPLY,
                Wire.payload(0)));

        ProtocolViolationException e = assertThrows(ProtocolViolationException.class, backend::read);
        assertTrue(e.getMessage().contains("carry the reply bit"), e.getMessage());
    }

    @Test
    void aPayloadAnnouncedLargerThanAnyRequestBreaksTheStreamBeforeItIsRead() throws Exception {
        MemorySegment header = frame(VhostUserRequest.SET_CONFIG.code(), VhostUserHeader.VERSION, Wire.payload(0));
        header.set(ValueLayout.JAVA_INT, VhostUserHeader.SIZE_OFFSET, MessageChannel.MAX_READABLE_PAYLOAD + 1);
        frontend.send(header);

        ProtocolViolationException e = assertThrows(ProtocolViolationException.class, backend::read);
        assertTrue(e.getMessage().contains("payload of " + (MessageChannel.MAX_READABLE_PAYLOAD + 1)), e.getMessage());
    }

    @Test
    void theFrontEndClosingBetweenMessagesIsEndOfStream() throws Exception {
        frontend.send(frame(VhostUserRequest.SET_OWNER.code(), VhostUserHeader.VERSION, Wire.payload(0)));
        frontend.close();

        assertEquals(VhostUserRequest.SET_OWNER, backend.read().request());
        assertThrows(EOFException.class, backend::read);
    }

    @Test
    void theFrontEndClosingInsideAMessageBreaksTheStream() throws Exception {
        MemorySegment frame = frame(VhostUserRequest.SET_FEATURES.code(), VhostUserHeader.VERSION, Wire.u64Payload(1));
        frontend.send(frame.asSlice(0, VhostUserHeader.SIZE + 3));
        frontend.close();

        ProtocolViolationException e = assertThrows(ProtocolViolationException.class, backend::read);
        assertTrue(e.getMessage().contains("after " + (VhostUserHeader.SIZE + 3) + " bytes"), e.getMessage());
    }

    @Test
    void descriptorsBeyondTheMostAnyRequestCarriesAreClosedOnArrival() throws Exception {
        List<EventFd> sent = new ArrayList<>();
        try {
            for (int i = 0; i <= VhostUserRequest.MAX_FDS; i++) {
                sent.add(EventFd.create());
            }
            frontend.send(frame(VhostUserRequest.SET_MEM_TABLE.code(), VhostUserHeader.VERSION,
                    MemoryTableMessage.encode(List.of())),
                    sent.stream().map(EventFd::fd).toArray(FileDescriptor[]::new));
            long before = ProcSelf.openFdCount();

            VhostUserMessage message = backend.read();

            assertTrue(message.fdsDiscarded());
            assertEquals(VhostUserRequest.MAX_FDS, message.fds().size());
            assertEquals(before + VhostUserRequest.MAX_FDS, ProcSelf.openFdCount(), "the ninth was never kept");
            message.closeFds();
            assertEquals(before, ProcSelf.openFdCount());
        } finally {
            sent.forEach(EventFd::close);
        }
    }

    /** A whole message as raw bytes in native memory, to send in pieces or with a broken header. */
    private MemorySegment frame(int code, int flags, MemorySegment body) {
        MemorySegment frame = arena.allocate(VhostUserHeader.SIZE + body.byteSize(), 8);
        frame.set(ValueLayout.JAVA_INT, VhostUserHeader.REQUEST_OFFSET, code);
        frame.set(ValueLayout.JAVA_INT, VhostUserHeader.FLAGS_OFFSET, flags);
        frame.set(ValueLayout.JAVA_INT, VhostUserHeader.SIZE_OFFSET, (int) body.byteSize());
        MemorySegment.copy(body, 0, frame, VhostUserHeader.SIZE, body.byteSize());
        return frame;
    }
}
