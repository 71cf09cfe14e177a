package dev.lowmem.virtio.vhostuser;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lowmem.vmm.core.event.EventLoop;
import dev.lowmem.vmm.core.socket.UnixServerSocket;
import dev.lowmem.vmm.core.testing.ProcSelf;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.LongSupplier;

/** A listening back-end serving an {@link EchoDevice} on its own control-plane loop. */
final class BackendFixture implements AutoCloseable {
    final Path socket;
    final EventLoop loop;
    final EchoDevice device;
    final VhostUserBackend backend;

    private BackendFixture(Path socket, EventLoop loop, EchoDevice device, VhostUserBackend backend) {
        this.socket = socket;
        this.loop = loop;
        this.device = device;
        this.backend = backend;
    }

    static BackendFixture listen(Path directory) throws Exception {
        return listen(directory, VhostUserBackend.DEFAULT_NEGOTIATION_DEADLINE);
    }

    /** A front-end that has not sent SET_OWNER {@code negotiationDeadline} after connecting is closed. */
    static BackendFixture listen(Path directory, Duration negotiationDeadline) throws Exception {
        Path socket = directory.resolve("vhost-user.sock");
        EventLoop loop = EventLoop.start("vhost-user-test");
        EchoDevice device = new EchoDevice();
        return new BackendFixture(socket, loop, device, VhostUserBackend.listen(socket, UnixServerSocket.OWNER_ONLY,
                negotiationDeadline, device, loop));
    }

    /**
     * Waits until this process holds exactly {@code fds} descriptors and {@code mappings} mappings
     * of the memfd {@code memfdName}: the back-end releases a session on its own thread.
     */
    static void awaitReleased(long fds, String memfdName, long mappings) throws InterruptedException {
        awaitValue("open descriptors", fds, ProcSelf::openFdCount);
        awaitValue("mappings of memfd:" + memfdName, mappings, () -> ProcSelf.mappingsOf(memfdName));
    }

    private static void awaitValue(String what, long expected, LongSupplier actual) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (actual.getAsLong() != expected && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(expected, actual.getAsLong(), what);
    }

    @Override
    public void close() throws Exception {
        backend.close();
        loop.close();
        device.close();
    }
}
