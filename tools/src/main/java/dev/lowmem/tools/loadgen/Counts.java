package dev.lowmem.tools.loadgen;

/**
 * What a queue pair (or all of them) moved, as totals since the rings started.
 *
 * @param txPosted frames made available on TX
 * @param txFrames TX frames the backend has returned (consumed)
 * @param txBytes their Ethernet frame bytes, without the virtio-net header
 * @param rxFrames frames the backend wrote into RX buffers
 * @param rxBytes their Ethernet frame bytes, without the virtio-net header
 * @param rxBad RX chains the backend returned too short for a header, or with num_buffers 0
 * @param kicks kick eventfd writes, after the backend asked for one
 * @param wakeups times the generator slept on the call eventfds, the backend having gone quiet
 * @param rounds rounds of the datapath
 * @param idleRounds rounds that found nothing to do: the generator waited for the backend
 */
record Counts(long txPosted, long txFrames, long txBytes, long rxFrames, long rxBytes, long rxBad, long kicks,
        long wakeups, long rounds, long idleRounds) {
    static final Counts ZERO = new Counts(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    Counts plus(Counts o) {
        return new Counts(txPosted + o.txPosted, txFrames + o.txFrames, txBytes + o.txBytes, rxFrames + o.rxFrames,
                rxBytes + o.rxBytes, rxBad + o.rxBad, kicks + o.kicks, wakeups + o.wakeups, rounds + o.rounds,
                idleRounds + o.idleRounds);
    }

    Counts minus(Counts o) {
        return new Counts(txPosted - o.txPosted, txFrames - o.txFrames, txBytes - o.txBytes, rxFrames - o.rxFrames,
                rxBytes - o.rxBytes, rxBad - o.rxBad, kicks - o.kicks, wakeups - o.wakeups, rounds - o.rounds,
                idleRounds - o.idleRounds);
    }

    /**
     * The share of rounds, in percent, that found nothing to do. Near 0 the generator itself was
     * the limit; well above, it waited for the backend (an idle round is also much shorter than a
     * busy one, so the share of time is higher still).
     */
    double idlePercent() {
        return rounds == 0 ? 0 : 100.0 * idleRounds / rounds;
    }

    /** TX frames posted and not yet returned. */
    long txInFlight() {
        return txPosted - txFrames;
    }
}
