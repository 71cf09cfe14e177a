package dev.lowmem.tools.loadgen;

import java.nio.file.Path;
import java.time.Duration;

/**
 * What a run does, checked: every value here is in range (the backend may still refuse some of
 * them once it says what it offers; {@link Plan#choose} decides).
 *
 * @param server listen on {@code socket} for the backend to connect, instead of connecting to it
 * @param frameSize the Ethernet frame's length in bytes, without the virtio-net header and FCS
 * @param queuePairs RX/TX queue pairs, each driven by a thread of its own
 * @param burst the most TX frames posted with one {@code avail} index store; RX buffers are
 *              posted again once this many (or an eighth of the ring) are free
 * @param queueSize entries in each ring
 * @param eventIdx take RING_EVENT_IDX when offered (otherwise notifications are suppressed with flags)
 * @param mergeable take NET_MRG_RXBUF when offered
 */
record LoadSettings(Path socket, boolean server, Mode mode, int frameSize, Duration duration, Duration warmup,
        boolean packed, int queuePairs, int burst, int queueSize, boolean eventIdx, boolean mergeable) {
}
