package dev.lowmem.devices.net;

import java.util.Locale;

/**
 * What a queue pair counts. Drops are split by reason so that every frame the guest sent or the
 * port offered and that went nowhere is accounted for under exactly one name.
 */
public enum NetCounter {
    TX_FRAMES("frames the guest transmitted that the port took"),
    TX_BYTES("bytes of those frames, headers excluded"),
    TX_KICKS("kicks on the TX queue"),
    TX_INTERRUPTS("interrupts raised on the TX queue"),
    TX_PORT_FULL("times the port was full and TX waited for it"),
    TX_DROP_MALFORMED_CHAIN("TX chains the guest got wrong (bad descriptor, loop, ...)"),
    TX_DROP_SHORT_FRAME("TX frames shorter than a virtio-net header and an Ethernet header"),
    TX_DROP_OVERSIZED("TX frames longer than the largest the negotiated features allow"),
    TX_DROP_BAD_HEADER("TX frames whose virtio_net_hdr asks for what was not negotiated or points outside the frame"),
    TX_DROP_PORT_ERROR("TX frames the port failed to send"),
    RX_FRAMES("frames written into the guest's buffers"),
    RX_BYTES("bytes of those frames, headers excluded"),
    RX_KICKS("kicks on the RX queue (the guest added buffers)"),
    RX_INTERRUPTS("interrupts raised on the RX queue"),
    RX_STARVED("times the guest's RX ring had no room and the port was left waiting"),
    RX_STARVED_NS("nanoseconds RX spent starved, counted as each starvation ends (the guest posts room or the queue stops)"),
    RX_HELD("frames taken from the port into the backlog while RX was starved"),
    RX_POOL_REFUSED("times the packet pool had no buffer for the backlog and the port kept its frames"),
    RX_BACKLOG_FULL("times the backlog filled, a flood outlasting it: RX held no more and left the rest in the port,"
            + " read straight into the guest's buffers, until the port ran dry"),
    RX_DROP_MALFORMED_CHAIN("RX chains the guest got wrong"),
    RX_DROP_NO_ROOM("frames larger than the guest's receive buffers"),
    RX_DROP_PORT_ERROR("failed reads from the port"),
    RX_FILTERED("frames the driver's receive filter turned away (control queue: RX mode, MAC table, VLAN)"),
    RX_DROP_BACKLOG("frames held for the guest (the RX backlog, a loopback's queue) that its RX queue stopped or the device reset before it took"),
    TX_FAULTS("times the TX queue stopped for good: the guest broke its ring, or serving it failed (guest memory gone, say); it waits for a reset"),
    RX_FAULTS("times the RX queue stopped for good: the guest broke its ring, or serving it failed; it waits for a reset"),
    CTRL_COMMANDS("control queue commands the device carried out"),
    CTRL_ERRORS("control queue commands refused (unknown, not negotiated, malformed data or chain)"),
    CTRL_FAULTS("times the control queue stopped for good: the guest broke its ring, or serving it failed"),
    WORKER_SLEEPS("times the pair's worker slept in epoll, its poll window over with nothing to do (each ends in a wake-up)"),
    WORKER_ERRORS("errors outside any one queue that the pair's worker survived (logged, then a 10 ms pause)"),
    RARP_SENT("RARP announcements of the guest's MAC sent out of the port (SEND_RARP, after a live migration)"),
    RARP_IGNORED("RARP announcements asked of a port without a host side to send them on (loopback, sink, source)");

    private final String description;

    NetCounter(String description) {
        this.description = description;
    }

    /** "tx_drop_short_frame": the name in stats lines and JSON. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    public String description() {
        return description;
    }

    public boolean isDrop() {
        return name().contains("_DROP_");
    }
}
