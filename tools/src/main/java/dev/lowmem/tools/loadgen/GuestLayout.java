package dev.lowmem.tools.loadgen;

import dev.lowmem.virtio.queue.QueueLayout;
import dev.lowmem.virtio.queue.RingAddresses;

/**
 * Where everything lives in the generator's guest memory, pair after pair, each area page
 * aligned: the RX rings, the TX rings, the TX slots (one frame per ring entry) and the RX buffers
 * (one per ring entry). A direction the run does not drive gets no buffers. The first page is
 * left empty, so no buffer sits at guest-physical 0.
 */
record GuestLayout(int queueSize, long ringBytes, long txSlotsBytes, long rxBuffersBytes, int pairs) {
    static final long PAGE = 4096;
    /** Whole 2 MiB, so that the memfd could as well be backed by huge pages. */
    static final long SIZE_ALIGNMENT = 2L << 20;

    static GuestLayout of(Plan plan, Mode mode, int queueSize, int pairs) {
        QueueLayout layout = QueueLayout.of(plan.features());
        long ringBytes = pageAligned(RingAddresses.placeFrom(0, layout, queueSize).end(layout, queueSize));
        long txSlots = mode.transmits() ? pageAligned((long) queueSize * plan.txSlotLength()) : 0;
        long rxBuffers = mode.receives() ? pageAligned((long) queueSize * plan.rxBufferLength()) : 0;
        return new GuestLayout(queueSize, ringBytes, txSlots, rxBuffers, pairs);
    }

    private long pairBytes() {
        return 2 * ringBytes + txSlotsBytes + rxBuffersBytes;
    }

    private long pairBase(int pair) {
        return PAGE + pair * pairBytes();
    }

    /** Where queue pair {@code pair}'s RX rings start (queue {@code 2 * pair}). */
    long rxRings(int pair) {
        return pairBase(pair);
    }

    /** Where queue pair {@code pair}'s TX rings start (queue {@code 2 * pair + 1}). */
    long txRings(int pair) {
        return pairBase(pair) + ringBytes;
    }

    long txSlots(int pair) {
        return pairBase(pair) + 2 * ringBytes;
    }

    long rxBuffers(int pair) {
        return txSlots(pair) + txSlotsBytes;
    }

    private static long pageAligned(long bytes) {
        return (bytes + PAGE - 1) & -PAGE;
    }

    /** The memfd's size. */
    long size() {
        long end = pairBase(pairs);
        return (end + SIZE_ALIGNMENT - 1) / SIZE_ALIGNMENT * SIZE_ALIGNMENT;
    }
}
