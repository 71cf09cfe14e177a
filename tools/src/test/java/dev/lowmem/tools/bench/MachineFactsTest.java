package dev.lowmem.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MachineFactsTest {
    private static final String CPUINFO = """
            processor\t: 0
            vendor_id\t: GenuineIntel
            model name\t: Intel(R) Xeon(R) Processor @ 2.20GHz
            processor\t: 1
            model name\t: Intel(R) Xeon(R) Processor @ 2.20GHz
            """;
    private static final String MEMINFO = """
            MemTotal:        4025244 kB
            MemFree:          812344 kB
            HugePages_Total:     896
            HugePages_Free:      640
            """;

    @Test
    void theFieldsInTheirOrder() {
        Map<String, String> facts = MachineFacts.of(CPUINFO, MEMINFO,
                "QEMU emulator version 7.2.15 (Debian 1:7.2+dfsg-7+deb12u12)\nCopyright (c) 2003-2022\n",
                "iperf 3.12 (cJSON 1.7.15)\nLinux host 6.1.0 #1 SMP\n",
                Optional.of("kernel_package=linux-image-6.1.0-41-amd64\nkernel_release=6.1.0-41-amd64\n"));

        assertEquals(Map.of("cpu_model", "Intel(R) Xeon(R) Processor @ 2.20GHz", "mem_mib", "3930", "hugepages_total", "896", "hugepages_free", "640",
                "qemu", "7.2.15", "iperf3", "3.12", "kernel_release", "6.1.0-41-amd64"), facts);
        assertEquals("[cpu_model, mem_mib, hugepages_total, hugepages_free, qemu, iperf3, kernel_release]", facts.keySet().toString());
    }

    @Test
    void aFactNotFoundIsEmpty() {
        assertEquals(Map.of("cpu_model", "", "mem_mib", "", "hugepages_total", "", "hugepages_free", "", "qemu", "", "iperf3", ""),
                MachineFacts.of("", "", "", "", Optional.empty()));
    }
}
