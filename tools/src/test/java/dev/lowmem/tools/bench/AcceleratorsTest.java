package dev.lowmem.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class AcceleratorsTest {
    @Test
    void countsEachAcceleratorByName() {
        String tcg = "run-guest: GUEST-READY 10.0.2.2\nrun-guest: rc=0 (GUEST-DONE rc=0) accel=tcg in 23.19s\n";
        String kvm = "run-guest: rc=1 (GUEST-DONE rc=1) accel=kvm in 3.02s\n";

        assertEquals("kvm (1 runs), tcg (2 runs)", Accelerators.count(List.of(tcg, kvm, tcg)));
    }

    @Test
    void onlyRunGuestsFinalLines() {
        assertEquals("", Accelerators.count(List.of("bench: accel=kvm\n  run-guest: rc=0 accel=tcg\n", "")));
    }
}
