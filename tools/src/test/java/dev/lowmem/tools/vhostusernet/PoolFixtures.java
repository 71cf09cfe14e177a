package dev.lowmem.tools.vhostusernet;

import dev.lowmem.vmm.core.pool.PoolStats;

/** Packet-pool snapshots for the formatters' tests. */
final class PoolFixtures {
    /** A pool nothing has drawn on, with no budget. */
    static final PoolStats NO_POOL = new PoolStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    /** One slab of a 64 MiB budget, one user, some takes, two kinds of failure. */
    static final PoolStats POOL = new PoolStats(64L << 20, 1L << 20, 1, 448, 256, 1, 40, 2, 3, 4, 5, 6);

    private PoolFixtures() {
    }
}
