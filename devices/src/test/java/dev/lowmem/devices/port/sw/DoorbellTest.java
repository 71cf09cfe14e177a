package dev.lowmem.devices.port.sw;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lowmem.vmm.core.event.Epoll;
import dev.lowmem.vmm.core.event.EpollEvents;
import dev.lowmem.vmm.core.nativeio.LibC;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The doorbell as its owner's epoll sees it: readable after a ring, quiet after an arm, one signal per arm. */
class DoorbellTest {
    private final Arena arena = Arena.ofConfined();
    private final Doorbell doorbell;
    private final Epoll epoll;
    private final EpollEvents ready = new EpollEvents(arena, 1);

    DoorbellTest() throws Exception {
        doorbell = new Doorbell();
        epoll = Epoll.create();
        epoll.add(doorbell.fd(), LibC.EPOLLIN, 0);
    }

    @AfterEach
    void close() {
        epoll.close();
        doorbell.close();
        arena.close();
    }

    @Test
    void aRingWakesTheArmedOwnerAndAnArmQuietsItAgain() throws Exception {
        assertEquals(0, readable(), "a new doorbell is quiet, and armed");
        doorbell.ring();
        assertEquals(1, readable());
        doorbell.arm();
        assertEquals(0, readable());
        doorbell.ring();
        assertEquals(1, readable());
    }

    @Test
    void ringsWhileTheOwnerIsAwakeSignalOnce() throws Exception {
        doorbell.ring();
        doorbell.ring();
        doorbell.ring();
        assertEquals(1, readable());
        doorbell.arm();
        assertEquals(0, readable(), "one read took every ring");
    }

    @Test
    void anArmWithoutARingLeavesItQuiet() throws Exception {
        doorbell.arm();
        doorbell.arm();
        assertEquals(0, readable());
    }

    private int readable() throws Exception {
        return epoll.wait(ready, 0);
    }
}
