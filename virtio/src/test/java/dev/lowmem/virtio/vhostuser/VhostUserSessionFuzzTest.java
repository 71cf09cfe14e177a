package dev.lowmem.virtio.vhostuser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.lowmem.vmm.core.event.EventFd;
import dev.lowmem.vmm.core.memory.Memfd;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.socket.UnixSocket;
import dev.lowmem.vmm.core.testing.FuzzInput;
import dev.lowmem.vmm.core.testing.ProcSelf;
import java.io.EOFException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * A front-end that sends anything (docs/FUZZING.md, "vhost-user session"): messages of any known
 * or unknown request, with any flags, sizes and payloads, carrying eventfds or memfds as
 * SCM_RIGHTS, fed to a real {@link BackendSession} over a socketpair with an {@link EchoDevice}
 * behind it. Each message is answered, refused, or ends the session cleanly: no exception
 * reaches the session's catch-all (which logs it as an error), every reply is well framed and
 * answers a request that was sent, and once the session is closed it holds no eventfd, memfd or
 * mapping of the guest memory, and its end of the socket is closed.
 *
 * <p>Input: messages until it ends. Each is a request code (u8), an options byte (bit 0
 * NEED_REPLY; bit 1 the header's flags from the next u32 instead; bit 2 the header's size from
 * the next u16 instead of the payload's; bits 4-6 how many descriptors ride along, 7 meaning
 * {@link VhostUserRequest#MAX_FDS} + 1; bit 7 memfds of the guest memory rather than fresh
 * eventfds, except for SET_VRING_KICK), a payload length (u16, at most {@link #MAX_PAYLOAD}) and the payload.
 */
class VhostUserSessionFuzzTest {
    private static final String GUEST_MEMFD = "vu-fuzz-guest";
    private static final long GUEST_SIZE = 1 << 20;
    /** A little past what the back-end reads, so the fuzzer meets that limit too. */
    private static final int MAX_PAYLOAD = MessageChannel.MAX_READABLE_PAYLOAD + 16;
    private static final int MANY_FDS = 7;
    /** What {@link #send} returns for a message whose header announced another size than its payload's. */
    private static final int MISFRAMED = -1;
    private static final String EVENTFD = "anon_inode:[eventfd]";
    private static final String GUEST_MEMFD_LINK = "/memfd:" + GUEST_MEMFD + " (deleted)";

    private static FileDescriptor guestMemory;
    /**
     * One device for every session, as a back-end's device outlives its front-ends' sessions
     * (BackendFixture): starting and joining its worker per input would be most of the time.
     */
    private static EchoDevice device;
    /** Held so the logging configuration below stays: JUL keeps loggers weakly. */
    private static Logger sessionLogger;
    private static final List<String> unexpected = new CopyOnWriteArrayList<>();
    private static final Handler UNEXPECTED_LOG = new Handler() {
        @Override
        public void publish(LogRecord record) {
            unexpected.add(record.getMessage() + (record.getThrown() == null ? "" : ": " + record.getThrown()));
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeAll
    static void setUp() throws Exception {
        guestMemory = Memfd.create(GUEST_MEMFD, GUEST_SIZE);
        device = new EchoDevice();
        // The session's catch-all for exceptions nobody expected logs them as errors (SEVERE); the
        // warnings and information of refused requests are normal here and would flood the log.
        // The package's logger: the session, its state and its memory table log under it.
        sessionLogger = Logger.getLogger(BackendSession.class.getPackageName());
        sessionLogger.setUseParentHandlers(false);
        sessionLogger.setLevel(Level.SEVERE);
        sessionLogger.addHandler(UNEXPECTED_LOG);
        // The device's worker dies on anything it did not expect, on its own thread.
        Thread.setDefaultUncaughtExceptionHandler((thread, e) -> unexpected.add(thread.getName() + ": " + e));
    }

    @AfterAll
    static void tearDown() throws Exception {
        device.close();
        // The unit tests share this JVM: the session logs as before, and threads die as before.
        sessionLogger.removeHandler(UNEXPECTED_LOG);
        sessionLogger.setLevel(null);
        sessionLogger.setUseParentHandlers(true);
        Thread.setDefaultUncaughtExceptionHandler(null);
        guestMemory.close();
    }

    @FuzzTest
    void everyMessageIsAnsweredRefusedOrEndsTheSession(byte[] bytes) throws Exception {
        FuzzInput input = new FuzzInput(bytes);
        unexpected.clear();
        long eventFdsBefore = ProcSelf.openFdsOn(EVENTFD);
        long guestFdsBefore = ProcSelf.openFdsOn(GUEST_MEMFD_LINK);
        UnixSocket[] pair = UnixSocket.pair();
        Queue<Runnable> controlPlane = new ConcurrentLinkedQueue<>();
        Set<Integer> codesSent = new HashSet<>();
        try (MessageChannel frontend = new MessageChannel(pair[0], true)) {
            pair[0].fd().setNonBlocking(true);
            pair[1].fd().setNonBlocking(true);
            BackendSession session = new BackendSession("fuzz", new MessageChannel(pair[1], false), device,
                    controlPlane::add);
            try {
                boolean open = true;
                // Once a header announces another size than its payload's, the session frames the
                // stream its own way, and its replies answer requests it read, not ones we wrote.
                boolean framedAsSent = true;
                while (open && input.hasMore()) {
                    int code = send(pair[0], input);
                    framedAsSent &= code != MISFRAMED;
                    codesSent.add(code);
                    open = session.onReadable();
                    // The loop's thread runs what workers hand over (a ring's fault): here, this one.
                    for (Runnable task; (task = controlPlane.poll()) != null; ) {
                        task.run();
                    }
                    checkReplies(frontend, framedAsSent ? codesSent : null);
                    assertEquals(List.of(), unexpected);
                }
            } finally {
                session.close();
            }
            assertThrows(EOFException.class, frontend::read, "the session's end of the socket is closed");
        }
        assertTrue(!device.running(EchoDevice.RX) && !device.running(EchoDevice.TX), "a closed session stops its rings");
        assertEquals(List.of(), unexpected);
        assertEquals(eventFdsBefore, ProcSelf.openFdsOn(EVENTFD), "eventfds left open");
        assertEquals(guestFdsBefore, ProcSelf.openFdsOn(GUEST_MEMFD_LINK), "guest memory descriptors left open");
        assertEquals(0, ProcSelf.mappingsOf(GUEST_MEMFD), "guest memory left mapped");
    }

    /** Sends the next message of the input; returns its request code, or {@link #MISFRAMED}. */
    private static int send(UnixSocket socket, FuzzInput input) throws Exception {
        int code = input.u8();
        int options = input.u8();
        int flags = (options & 2) != 0 ? input.u32()
                : VhostUserHeader.VERSION | ((options & 1) != 0 ? VhostUserHeader.NEED_REPLY : 0);
        int announcedSize = (options & 4) != 0 ? input.u16() : -1;
        byte[] payload = input.bytes(input.u16() % (MAX_PAYLOAD + 1));
        int fdCount = options >>> 4 & 7;
        // Memfds go where eventfds belong too: EventFd.adopt refuses them (docs/FUZZING.md, finding 2).
        boolean memfds = (options & 0x80) != 0;
        List<EventFd> created = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment message = arena.allocate(VhostUserHeader.SIZE + payload.length);
            Wire.putU32(message, VhostUserHeader.REQUEST_OFFSET, code);
            Wire.putU32(message, VhostUserHeader.FLAGS_OFFSET, flags);
            Wire.putU32(message, VhostUserHeader.SIZE_OFFSET, announcedSize >= 0 ? announcedSize : payload.length);
            MemorySegment.copy(MemorySegment.ofArray(payload), 0, message, VhostUserHeader.SIZE, payload.length);
            FileDescriptor[] fds = new FileDescriptor[fdCount == MANY_FDS ? VhostUserRequest.MAX_FDS + 1 : fdCount];
            for (int i = 0; i < fds.length; i++) {
                if (memfds) {
                    fds[i] = guestMemory;
                } else {
                    EventFd eventFd = EventFd.create();
                    created.add(eventFd);
                    fds[i] = eventFd.fd();
                }
            }
            socket.send(message, fds);
        } finally {
            // The session got duplicates; ours go.
            created.forEach(EventFd::close);
        }
        return announcedSize >= 0 && announcedSize != payload.length ? MISFRAMED : code;
    }

    /**
     * Reads every reply there is: each well framed (the channel checks that), without descriptors,
     * and, unless {@code codesSent} is null, to a request sent.
     */
    private static void checkReplies(MessageChannel frontend, Set<Integer> codesSent) throws Exception {
        VhostUserMessage reply;
        while ((reply = frontend.read()) != null) {
            reply.closeFds();
            assertTrue(reply.fds().isEmpty() && !reply.fdsDiscarded(), "a reply carries no descriptors");
            assertTrue(codesSent == null || codesSent.contains(reply.code()),
                    "a reply to request " + reply.code() + ", never sent");
            assertTrue(reply.body().byteSize() <= VhostUserRequest.MAX_PAYLOAD, "a reply larger than any request's");
        }
    }
}
