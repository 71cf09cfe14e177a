package dev.lowmem.tools.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import dev.lowmem.virtio.queue.QueueLayout;
import dev.lowmem.virtio.queue.RingAddresses;
import org.junit.jupiter.api.Test;

class GuestLayoutTest {
    private static final Plan PLAN = new Plan(Features.of(Feature.VERSION_1), 12, 1500, FrameKind.PLAIN, 1460, 1536,
            2048, true);

    @Test
    void everyAreaIsPageAlignedAfterTheFirstPageAndTheyFollowEachOther() {
        GuestLayout layout = GuestLayout.of(PLAN, Mode.BOTH, 256, 2);

        long end = GuestLayout.PAGE;
        for (int pair = 0; pair < 2; pair++) {
            assertEquals(end, layout.rxRings(pair));
            assertTrue(layout.txRings(pair) >= layout.rxRings(pair)
                    + RingAddresses.placeFrom(0, QueueLayout.SPLIT, 256).end(QueueLayout.SPLIT, 256));
            assertTrue(layout.txSlots(pair) >= layout.txRings(pair) + layout.ringBytes());
            assertEquals(layout.txSlots(pair) + 256L * 1536, layout.rxBuffers(pair));
            end = layout.rxBuffers(pair) + 256L * 2048;
            for (long area : new long[] {layout.rxRings(pair), layout.txRings(pair), layout.txSlots(pair),
                    layout.rxBuffers(pair)}) {
                assertEquals(0, area % GuestLayout.PAGE);
            }
        }
        assertTrue(layout.size() >= end);
        assertEquals(0, layout.size() % GuestLayout.SIZE_ALIGNMENT);
    }

    @Test
    void aDirectionNotDrivenGetsNoBuffers() {
        GuestLayout tx = GuestLayout.of(PLAN, Mode.TX, 256, 1);
        GuestLayout rx = GuestLayout.of(PLAN, Mode.RX, 256, 1);

        assertEquals(0, tx.rxBuffersBytes());
        assertEquals(256L * 1536, tx.txSlotsBytes());
        assertEquals(0, rx.txSlotsBytes());
        assertEquals(256L * 2048, rx.rxBuffersBytes());
    }
}
