package dev.lowmem.tools.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The facts of tools/bench's header that are a field of a file or of a program's output: the CPU
 * model (/proc/cpuinfo), the RAM and the 2 MiB hugepages, reserved and free (/proc/meminfo), QEMU's and iperf3's
 * versions (the first line of their --version), the guest's kernel (build-guest's manifest).
 */
public final class MachineFacts {
    private MachineFacts() {
    }

    /**
     * KEY to VALUE: cpu_model, mem_mib, hugepages_total, hugepages_free, qemu, iperf3,
     * and kernel_release when a manifest is given; a fact not found is empty.
     */
    public static Map<String, String> of(String cpuinfo, String meminfo, String qemuVersion, String iperf3Version,
            Optional<String> manifest) {
        Map<String, String> facts = new LinkedHashMap<>();
        facts.put("cpu_model", field(cpuinfo, "model name", ':').orElse(""));
        facts.put("mem_mib", field(meminfo, "MemTotal", ':').map(MachineFacts::kibToMib).orElse(""));
        facts.put("hugepages_total", field(meminfo, "HugePages_Total", ':').orElse(""));
        facts.put("hugepages_free", field(meminfo, "HugePages_Free", ':').orElse(""));
        facts.put("qemu", word(qemuVersion, 3));
        facts.put("iperf3", word(iperf3Version, 1));
        manifest.ifPresent(text -> facts.put("kernel_release", field(text, "kernel_release", '=').orElse("")));
        return facts;
    }

    /**
     * The value of the first line "KEY SEPARATOR VALUE" (/proc/cpuinfo pads KEY with tabs,
     * /proc/meminfo pads VALUE with spaces); for /proc/meminfo's "N kB" the number alone.
     */
    static Optional<String> field(String text, String key, char separator) {
        for (String line : text.lines().toList()) {
            int at = line.indexOf(separator);
            if (at > 0 && line.substring(0, at).strip().equals(key)) {
                String value = line.substring(at + 1).strip();
                return Optional.of(value.endsWith(" kB") ? value.substring(0, value.length() - 3).strip() : value);
            }
        }
        return Optional.empty();
    }

    /** The {@code index}th word (from 0) of the first line, empty without one ("QEMU emulator version 7.2.15 (...)"). */
    static String word(String text, int index) {
        String first = text.lines().findFirst().orElse("").strip();
        String[] words = first.isEmpty() ? new String[0] : first.split("\\s+");
        return index < words.length ? words[index] : "";
    }

    private static String kibToMib(String kib) {
        return Long.toString(Long.parseLong(kib) / 1024);
    }
}
