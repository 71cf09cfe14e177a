package dev.lowmem.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class ReportSpecTest {
    @Test
    void partsInOrderWithTheirTablesAndLegends() {
        ReportSpec spec = ReportSpec.parse(List.of(
                "title\tT", "intro\tI", "header\tplan\t1 round", "pinning\tnone\tnothing pinned",
                "part\tguest\tA guest's iperf3", "table\tguest->host|host->guest\tours|qemu-tap\tours/qemu-tap=ours/QEMU-TAP"
                        + "\tiperf3\tMbit/s (retr)\t%.0f\t%.0f",
                "legend\tours: ...", "legend\tqemu-tap: ...",
                "part\tlatency\tRound trips", "table\tmedian\tours|dpdk\t\tround trip\tus\t%.0f\t"));

        assertEquals(List.of("guest", "latency"), spec.parts().stream().map(ReportSpec.Part::name).toList());
        ReportSpec.Part guest = spec.parts().getFirst();
        assertEquals(List.of(new ReportSpec.Ratio("ours", "qemu-tap", "ours/QEMU-TAP")), guest.table().ratios());
        assertEquals(List.of("ours: ...", "qemu-tap: ..."), guest.legend());
        assertEquals(List.of(), spec.parts().get(1).table().ratios());
        assertEquals("", spec.parts().get(1).table().format2());
        assertEquals("nothing pinned", spec.pinnings().get("none"));
    }

    @Test
    void refusesWhatItDoesNotKnow() {
        assertThrows(IllegalArgumentException.class, () -> ReportSpec.parse(List.of("chart\tx")));
        assertThrows(IllegalArgumentException.class, () -> ReportSpec.parse(List.of("part\tguest\tno table")));
        assertThrows(IllegalArgumentException.class, () -> ReportSpec.parse(List.of(
                "part\tp\tc", "table\ta\tb\tnoslash=label\th\tu\t%.0f\t")));
        assertThrows(IllegalArgumentException.class, () -> BenchRun.parse("guest\tguest->host\tours\t1\t900", "test"));
        assertThrows(IllegalArgumentException.class, () -> BenchRun.parse("guest\tguest->host\tours\tone\t900\t0\t/r", "test"));
    }
}
