package dev.lowmem.virtio.vhostuser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import dev.lowmem.vmm.core.event.EventLoop;
import dev.lowmem.vmm.core.socket.UnixServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A connection that has not sent SET_OWNER when its negotiation deadline passes is closed, so a
 * silent or slow one cannot keep every other front-end out; a settled one keeps the socket.
 */
@Timeout(30)
class NegotiationDeadlineTest {
    private static final Duration DEADLINE = Duration.ofMillis(300);
    private static final Duration CLOCK_SLACK = Duration.ofMillis(50);
    private static final long FEATURES = Features.of(Feature.VERSION_1, Feature.RING_EVENT_IDX);

    @TempDir
    Path directory;
    private BackendFixture backend;

    @BeforeEach
    void listen() throws Exception {
        backend = BackendFixture.listen(directory, DEADLINE);
    }

    @AfterEach
    void close() throws Exception {
        backend.close();
    }

    @Test
    void aConnectionThatSaysNothingIsClosedAtTheDeadlineAndTheNextFrontendIsServed() throws Exception {
        Duration held;
        try (StallingFrontend silent = StallingFrontend.connect(backend.socket)) {
            held = silent.awaitClosed();
        }
        assertDeadlineKept(held);
        assertTheNextFrontendNegotiates();
    }

    @Test
    void aConnectionThatSendsAByteEvery100MsIsClosedAtTheDeadlineAndTheNextFrontendIsServed() throws Exception {
        Duration held;
        try (StallingFrontend slow = StallingFrontend.connect(backend.socket)) {
            held = slow.trickleUntilClosed(Duration.ofMillis(100));
        }
        assertDeadlineKept(held);
        assertTheNextFrontendNegotiates();
    }

    @Test
    void aSettledSessionKeepsTheSocketPastTheDeadline() throws Exception {
        try (VhostUserFrontend settled = VhostUserFrontend.connect(backend.socket, Duration.ofSeconds(5))) {
            settled.setOwner();
            Thread.sleep(DEADLINE.multipliedBy(3));
            try (VhostUserFrontend newcomer = VhostUserFrontend.connect(backend.socket, Duration.ofSeconds(5))) {
                VhostUserException refused = assertThrows(VhostUserException.class, newcomer::getFeatures);
                assertTrue(refused.getMessage().contains("one front-end at a time"), refused.getMessage());
            }
            assertTrue(Feature.VHOST_USER_PROTOCOL_FEATURES.in(settled.getFeatures()), "the settled session still answers");
        }
    }

    @Test
    void inConnectModeAnUnsettledFrontendIsLeftAndConnectedToAgain() throws Exception {
        Path path = directory.resolve("frontend.sock");
        try (UnixServerSocket frontendSide = UnixServerSocket.listen(path);
                EventLoop loop = EventLoop.start("vhost-user-deadline-connect-test");
                EchoDevice device = new EchoDevice();
                VhostUserBackend connecting = VhostUserBackend.connect(path, Duration.ofMillis(20), DEADLINE, device,
                        loop);
                EchoDriver driver = EchoDriver.create("vu-deadline-connect", FEATURES)) {
            Duration held;
            try (StallingFrontend silent = StallingFrontend.over(frontendSide.accept())) {
                held = silent.awaitClosed();
            }
            assertDeadlineKept(held);
            driver.setUp(VhostUserFrontend.over(frontendSide.accept()), 1);
            driver.roundTrip(10);
            assertEquals(10, device.echoed());
        }
    }

    /**
     * Closed no sooner than the deadline: the back-end waited for SET_OWNER, it did not refuse at
     * once. Our clock starts a little after the back-end's (it accepts or connects before our
     * connect or accept returns, and seen here 1 ms before), hence the slack.
     */
    private static void assertDeadlineKept(Duration held) {
        assertTrue(held.compareTo(DEADLINE.minus(CLOCK_SLACK)) >= 0, "closed after " + held.toMillis()
                + " ms, before the deadline");
    }

    private void assertTheNextFrontendNegotiates() throws Exception {
        try (EchoDriver driver = EchoDriver.create("vu-deadline-next", FEATURES)) {
            driver.connect(backend.socket, 1);
            driver.roundTrip(10);
        }
        assertEquals(10, backend.device.echoed());
    }
}
