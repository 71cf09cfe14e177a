package dev.lowmem.tools.vhostusernet;

import dev.lowmem.devices.net.NetCounter;
import dev.lowmem.devices.port.sw.SwitchCounter;
import dev.lowmem.vmm.core.pool.PoolStats;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.ToLongBiFunction;
import java.util.function.ToLongFunction;

/**
 * One value a part of a {@link StatsSnapshot} carries, named once for every machine-readable view
 * of it: its key in the JSON line ({@link JsonStatsLine}) and the metric name derived from that key
 * ({@link PrometheusStats}). The lists here are the only enumeration of a snapshot's values: a
 * counter added to {@link NetCounter}, {@link SwitchCounter} or to one of these lists shows up in
 * both at once.
 *
 * @param key the JSON key; ends in {@code _bytes}, {@code _ns} or {@code _ms} when it has that unit
 * @param counter whether it only grows (a Prometheus counter) rather than going up and down (a gauge)
 * @param help what it counts, for people
 * @param read reads it from the part of the snapshot
 */
record StatsValue<T>(String key, boolean counter, String help, ToLongFunction<T> read) {

    /** The packet pool's state and counters, shared by every device. */
    static final List<StatsValue<PoolStats>> POOL = List.of(
            gauge("pool_budget_bytes", "the most slab memory the packet pool may hold now", PoolStats::budgetBytes),
            gauge("pool_allocated_bytes", "slab memory the packet pool holds now", PoolStats::allocatedBytes),
            gauge("pool_slabs", "slabs the packet pool holds now", PoolStats::slabs),
            gauge("pool_free_buffers", "buffers in the packet pool's shared free list now", PoolStats::freeBuffers),
            gauge("pool_reserve_target", "the buffers the packet pool's refill keeps in its shared free list",
                    PoolStats::reserveTarget),
            gauge("pool_users", "queues that draw on the packet pool now", PoolStats::users),
            counter("pool_takes", "buffers taken from the packet pool", PoolStats::takes),
            counter("pool_cache_misses", "takes that found their user's cache empty", PoolStats::cacheMisses),
            counter("pool_reserve_takes", "buffers handed out of the packet pool's reserve while its refill was"
                    + " behind", PoolStats::reserveTakes),
            counter("pool_budget_failures", "refills and takes the packet pool's budget stopped",
                    PoolStats::budgetFailures),
            counter("pool_native_failures", "refills and takes stopped because the system refused memory",
                    PoolStats::nativeFailures),
            counter("pool_refill_rounds", "refill rounds that allocated at least one slab", PoolStats::refillRounds));

    /** A queue pair's: every {@link NetCounter}, then their drops summed, the backlog and its worker's allocation. */
    static final List<StatsValue<PairStats>> PAIR = pairValues();

    /** A switch port's: every {@link SwitchCounter}, then their drops summed and the inbox. */
    static final List<StatsValue<SwitchPortStats>> SWITCH_PORT = switchPortValues();

    /** A device's own, beside its pairs'. */
    static final List<StatsValue<DeviceStats>> DEVICE = List.of(
            counter("host_drops", "frames the host side dropped before the device read them (a TAP's queue)",
                    DeviceStats::hostDrops));

    /** The JVM's collections. */
    static final List<StatsValue<GcStats>> GC = List.of(
            counter("gc_collections", "garbage collections of the JVM, every collector", GcStats::collections),
            counter("gc_ms", "time the JVM's garbage collections took", GcStats::millis));

    static <T> StatsValue<T> counter(String key, String help, ToLongFunction<T> read) {
        return new StatsValue<>(key, true, help, read);
    }

    static <T> StatsValue<T> gauge(String key, String help, ToLongFunction<T> read) {
        return new StatsValue<>(key, false, help, read);
    }

    long of(T part) {
        return read.applyAsLong(part);
    }

    private static List<StatsValue<PairStats>> pairValues() {
        return counters(NetCounter.values(), NetCounter::key, NetCounter::description, PairStats::get, List.of(
                counter("drops", "frames the queue pair dropped, every reason", PairStats::drops),
                gauge("backlog", "frames held for the guest now, in the RX backlog and in the port", PairStats::backlog),
                counter("worker_alloc_bytes", "heap the queue pair's worker thread allocated (-1: not counted)",
                        PairStats::workerAllocatedBytes)));
    }

    private static List<StatsValue<SwitchPortStats>> switchPortValues() {
        return counters(SwitchCounter.values(), SwitchCounter::key, SwitchCounter::description, SwitchPortStats::get,
                List.of(counter("drops", "frames lost for the switch port, every reason", SwitchPortStats::drops),
                        gauge("inbox", "frames waiting in the switch port's inbox now", SwitchPortStats::inbox)));
    }

    /** A counter for each of {@code counters}, read by {@code get}, then {@code more}. */
    private static <T, E> List<StatsValue<T>> counters(E[] counters, Function<E, String> key,
            Function<E, String> help, ToLongBiFunction<T, E> get, List<StatsValue<T>> more) {
        List<StatsValue<T>> values = new ArrayList<>();
        for (E counter : counters) {
            values.add(counter(key.apply(counter), help.apply(counter), part -> get.applyAsLong(part, counter)));
        }
        values.addAll(more);
        return List.copyOf(values);
    }
}
