package dev.lowmem.vmm.core.pool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PoolConfigTest {
    @Test
    void theDefaultsAreTwoKibibyteBuffersInOneMebibyteSlabsWithinSixtyFourMebibytes() {
        PoolConfig defaults = PoolConfig.defaults();

        assertEquals(new PoolConfig(2048, 512, 64L << 20, 256, 128, 4), defaults);
        assertEquals(1 << 20, defaults.slabBytes());
    }

    @Test
    void withBudgetChangesTheBudgetOnly() {
        assertEquals(new PoolConfig(2048, 512, 4096, 256, 128, 4), PoolConfig.defaults().withBudget(4096));
    }

    @Test
    void eachInvalidValueIsRefusedByName() {
        assertRefused("bufferSize 100", () -> new PoolConfig(100, 512, 0, 256, 128, 4));
        assertRefused("bufferSize 0", () -> new PoolConfig(0, 512, 0, 256, 128, 4));
        assertRefused("buffersPerSlab 0", () -> new PoolConfig(2048, 0, 0, 256, 128, 4));
        assertRefused("budgetBytes -1", () -> new PoolConfig(2048, 512, -1, 256, 128, 4));
        assertRefused("reservePerUser 0", () -> new PoolConfig(2048, 512, 0, 0, 128, 4));
        assertRefused("cacheSize 1", () -> new PoolConfig(2048, 512, 0, 256, 1, 4));
        assertRefused("slabsPerRefill 0", () -> new PoolConfig(2048, 512, 0, 256, 128, 0));
    }

    private static void assertRefused(String named, Executable construction) {
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, construction);
        assertTrue(refused.getMessage().startsWith(named), refused.getMessage());
    }
}
