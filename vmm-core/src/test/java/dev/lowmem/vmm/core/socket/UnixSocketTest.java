package dev.lowmem.vmm.core.socket;

import dev.lowmem.vmm.core.event.EventFd;
import dev.lowmem.vmm.core.memory.GuestMemory;
import dev.lowmem.vmm.core.memory.GuestRegion;
import dev.lowmem.vmm.core.memory.Memfd;
import dev.lowmem.vmm.core.memory.Translation;
import dev.lowmem.vmm.core.nativeio.Errno;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.LibC;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import dev.lowmem.vmm.core.testing.ProcSelf;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class UnixSocketTest {
    private static final long MEMORY_SIZE = 2 << 20;

    @Test
    void fdsSentOverASocketpairNameTheSameMemfdMemory() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket sender = pair[0]; UnixSocket receiver = pair[1];
             FileDescriptor memfd = Memfd.create("shared", MEMORY_SIZE);
             GuestMemory senderView = mapWhole(memfd);
             Arena arena = Arena.ofConfined()) {
            MemorySegment senderBytes = whole(senderView);
            senderBytes.set(ValueLayout.JAVA_LONG, 4096, 0x5eed_f00d_cafe_beefL);

            sender.send(arena.allocateFrom("mem"), memfd);
            MemorySegment buffer = arena.allocate(16);
            Received message = receiver.receive(buffer, 4);

            assertEquals(4, message.bytes(), "\"mem\" and its NUL");
            assertEquals(1, message.fds().size());
            assertFalse(message.fdsDiscarded());
            try (FileDescriptor received = message.fds().getFirst(); GuestMemory receiverView = mapWhole(received)) {
                assertNotEquals(memfd.intValue(), received.intValue(), "the receiver holds its own descriptor");
                MemorySegment receiverBytes = whole(receiverView);
                assertEquals(0x5eed_f00d_cafe_beefL, receiverBytes.get(ValueLayout.JAVA_LONG, 4096));
                receiverBytes.set(ValueLayout.JAVA_LONG, MEMORY_SIZE - 8, 42);
                assertEquals(42, senderBytes.get(ValueLayout.JAVA_LONG, MEMORY_SIZE - 8));
            }
        }
    }

    @Test
    void listenAcceptAndConnectCarryBytesAndFds(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("vnet.sock");
        try (UnixServerSocket server = UnixServerSocket.listen(path);
             UnixSocket client = UnixSocket.connect(path);
             UnixSocket accepted = server.accept();
             EventFd kick = EventFd.create();
             EventFd call = EventFd.create();
             Arena arena = Arena.ofConfined()) {
            assertEquals("rw-------", PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(path)));

            client.send(arena.allocateFrom("rings"), kick.fd(), call.fd());
            Received message = accepted.receive(arena.allocate(64), 8);
            assertEquals(6, message.bytes());
            assertEquals(2, message.fds().size());
            try (EventFd receivedKick = EventFd.adopt(message.fds().get(0));
                 EventFd receivedCall = EventFd.adopt(message.fds().get(1))) {
                receivedKick.write(3);
                assertEquals(3, kick.read(), "a write on the received fd shows on the sender's eventfd");
                call.write(5);
                assertEquals(5, receivedCall.read());
            }
        }
        assertFalse(Files.exists(path), "closing the server removes its socket file");
    }

    @Test
    void aLongMessageArrivesWhole() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        byte[] payload = new byte[1 << 20];
        new Random(7).nextBytes(payload);
        try (UnixSocket sender = pair[0]; UnixSocket receiver = pair[1]; Arena arena = Arena.ofShared()) {
            MemorySegment source = arena.allocate(payload.length);
            MemorySegment.copy(payload, 0, source, ValueLayout.JAVA_BYTE, 0, payload.length);
            MemorySegment target = arena.allocate(payload.length);
            Thread writer = Thread.ofPlatform().start(() -> {
                try {
                    sender.send(source);
                } catch (NativeIoException e) {
                    throw new AssertionError(e);
                }
            });
            long filled = 0;
            while (filled < payload.length) {
                Received part = receiver.receive(target.asSlice(filled), 0);
                assertFalse(part.endOfStream());
                filled += part.bytes();
            }
            writer.join();
            assertArrayEquals(payload, target.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void fdsBeyondWhatTheReceiverTakesAreNeverLeaked() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket sender = pair[0]; UnixSocket receiver = pair[1]; Arena arena = Arena.ofConfined()) {
            List<EventFd> sent = List.of(EventFd.create(), EventFd.create(), EventFd.create(), EventFd.create(),
                    EventFd.create());
            long before = ProcSelf.openFdCount();

            sender.send(arena.allocateFrom("x"), sent.stream().map(EventFd::fd).toArray(FileDescriptor[]::new));
            Received message = receiver.receive(arena.allocate(8), 2);

            assertEquals(2, message.fds().size());
            assertTrue(message.fdsDiscarded());
            assertEquals(before + 2, ProcSelf.openFdCount(), "only the two taken were installed");
            message.closeFds();
            assertEquals(before, ProcSelf.openFdCount());
            sent.forEach(EventFd::close);
        }
    }

    @Test
    void extraFdsTheKernelInstalledIntoAlignmentSlackAreClosed() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket sender = pair[0]; UnixSocket receiver = pair[1]; Arena arena = Arena.ofConfined()) {
            List<EventFd> sent = List.of(EventFd.create(), EventFd.create(), EventFd.create());
            long before = ProcSelf.openFdCount();

            sender.send(arena.allocateFrom("x"), sent.stream().map(EventFd::fd).toArray(FileDescriptor[]::new));
            // Room for one fd rounds up to room for two; the second must not stay open.
            Received message = receiver.receive(arena.allocate(8), 1);

            assertEquals(1, message.fds().size());
            assertTrue(message.fdsDiscarded());
            assertEquals(before + 1, ProcSelf.openFdCount());
            message.closeFds();
            sent.forEach(EventFd::close);
        }
    }

    @Test
    void fdsNeedAByteToRideOn() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket sender = pair[0]; UnixSocket ignored = pair[1]; EventFd eventFd = EventFd.create()) {
            assertThrows(IllegalArgumentException.class, () -> sender.send(MemorySegment.NULL, eventFd.fd()));
        }
    }

    @Test
    void aListenerWithAFullBacklogCountsAsLiveWithoutBlockingTheProbe(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("full.sock");
        List<UnixSocket> waiting = new ArrayList<>();
        try (UnixServerSocket live = UnixServerSocket.listen(path)) {
            while (true) {
                try {
                    waiting.add(UnixSocket.connect(path, LibC.SOCK_NONBLOCK));
                } catch (NativeIoException full) {
                    assertEquals(Errno.EAGAIN, full.errno());
                    break;
                }
            }
            NativeIoException e = assertThrows(NativeIoException.class, () -> UnixServerSocket.listen(path));
            assertEquals(Errno.EADDRINUSE, e.errno());
        } finally {
            waiting.forEach(UnixSocket::close);
        }
    }

    @Test
    void fdsWhereNoneAreTakenAreDiscardedToo() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket sender = pair[0]; UnixSocket receiver = pair[1]; Arena arena = Arena.ofConfined();
             EventFd stray = EventFd.create()) {
            long before = ProcSelf.openFdCount();
            sender.send(arena.allocateFrom("x"), stray.fd());
            Received message = receiver.receive(arena.allocate(8), 0);
            assertTrue(message.fds().isEmpty());
            assertTrue(message.fdsDiscarded());
            assertEquals(before, ProcSelf.openFdCount());
        }
    }

    @Test
    void endOfStreamWhenThePeerCloses() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket receiver = pair[1]; Arena arena = Arena.ofConfined()) {
            pair[0].close();
            assertTrue(receiver.receive(arena.allocate(8), 1).endOfStream());
        }
    }

    @Test
    void shutdownWakesAThreadBlockedInAcceptAndRefusesConnections(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("ctl.sock");
        try (UnixServerSocket listener = UnixServerSocket.listen(path)) {
            List<Integer> errnos = new ArrayList<>();
            Thread accepting = Thread.ofPlatform().start(() -> {
                try {
                    listener.accept().close();
                } catch (NativeIoException e) {
                    errnos.add(e.errno());
                }
            });
            // Blocked in accept, or about to be: shutdown wakes it either way.
            Thread.sleep(100);
            listener.shutdown();
            accepting.join(5_000);
            assertFalse(accepting.isAlive(), "accept returned");
            assertEquals(List.of(Errno.EINVAL), errnos);
            assertThrows(NativeIoException.class, () -> UnixSocket.connect(path).close());
        }
        assertFalse(Files.exists(path), "close still removes the file");
    }

    @Test
    void aStaleSocketFileIsReplaced(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("stale.sock");
        UnixServerSocket dead = UnixServerSocket.listen(path);
        dead.fd().close(); // the listener dies; its file stays behind
        assertTrue(Files.exists(path));

        try (UnixServerSocket server = UnixServerSocket.listen(path); UnixSocket client = UnixSocket.connect(path);
             UnixSocket accepted = server.accept()) {
            assertTrue(accepted.fd().isOpen());
        }
    }

    @Test
    void aPathALiveListenerHoldsIsRefused(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("busy.sock");
        try (UnixServerSocket live = UnixServerSocket.listen(path)) {
            NativeIoException e = assertThrows(NativeIoException.class,
                    () -> UnixServerSocket.listen(path));
            assertEquals(Errno.EADDRINUSE, e.errno());
            assertTrue(e.getMessage().contains(path.toString()), e.getMessage());
            try (UnixSocket client = UnixSocket.connect(path); UnixSocket accepted = live.accept()) {
                assertTrue(accepted.fd().isOpen(), "the live listener still serves");
            }
        }
    }

    @Test
    void aPathThatIsNotASocketIsLeftAlone(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("notes.txt");
        Files.writeString(path, "keep me");
        NativeIoException e = assertThrows(NativeIoException.class,
                () -> UnixServerSocket.listen(path));
        assertEquals(Errno.EEXIST, e.errno());
        assertEquals("keep me", Files.readString(path));
    }

    @Test
    void theModeCanBeWidenedOnRequest(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("group.sock");
        try (UnixServerSocket ignored = UnixServerSocket.listen(path,
                PosixFilePermissions.fromString("rw-rw----"))) {
            assertEquals("rw-rw----", PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(path)));
        }
    }

    @Test
    void connectingToNothingNamesThePathAndTheErrno(@TempDir Path dir) {
        Path path = dir.resolve("absent.sock");
        NativeIoException e = assertThrows(NativeIoException.class,
                () -> UnixSocket.connect(path));
        assertEquals("connect " + path + ": ENOENT (No such file or directory)", e.getMessage());
    }

    @Test
    void aPathTooLongForSunPathIsRefusedBeforeAnySyscall(@TempDir Path dir) {
        Path path = dir.resolve("x".repeat(120));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> UnixServerSocket.listen(path));
        assertTrue(e.getMessage().contains("at most 107"), e.getMessage());
    }

    private static GuestMemory mapWhole(FileDescriptor memfd) throws Exception {
        return GuestMemory.map(List.of(new GuestRegion(0, MEMORY_SIZE, 0, 0, memfd)));
    }

    private static MemorySegment whole(GuestMemory memory) {
        return ((Translation.Mapped) memory.translate(0, MEMORY_SIZE)).segment();
    }
}
