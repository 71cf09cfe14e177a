package dev.lowmem.virtio.vhostuser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.virtio.Feature;
import dev.lowmem.vmm.core.memory.AddressFault;
import dev.lowmem.vmm.core.memory.GuestMemory;
import dev.lowmem.vmm.core.memory.Translation;
import dev.lowmem.vmm.core.testing.ProcSelf;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The memory table at QEMU's slot limit (VHOST_USER_MAX_RAM_SLOTS, 509), over a real socket with
 * a real memfd per region: every region added with ADD_MEM_REG, each translated right at both of
 * its edges and refused one byte past them, the 510th refused, then every region removed with
 * REM_MEM_REG and every mapping and descriptor of them released. Each change maps or unmaps its
 * region alone: a slice of the first table's region reads on while that region stays.
 */
class MemorySlotsTest {
    private static final int SLOTS = 509;
    private static final long REGION_SIZE = 8192;
    /** Regions 64 KiB apart: none adjacent, so a range past a region's end reaches no other. */
    private static final long STRIDE = 0x10000;
    private static final long GPA_BASE = 0x1_0000_0000L;
    private static final long UVA_BASE = 0x7e00_0000_0000L;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final String MEMFD = "vu-slots";

    @TempDir
    Path dir;
    private BackendFixture fixture;
    private final List<FrontendMemory> memories = new ArrayList<>();
    private final List<String> refusals = new ArrayList<>();
    private final Logger sessionLog = Logger.getLogger(BackendSession.class.getName());
    private final Handler refusalCatcher = new Handler() {
        @Override
        public void publish(LogRecord record) {
            synchronized (refusals) {
                refusals.add(record.getMessage());
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void start() throws Exception {
        fixture = BackendFixture.listen(dir);
        sessionLog.addHandler(refusalCatcher);
    }

    @AfterEach
    void stop() throws Exception {
        sessionLog.removeHandler(refusalCatcher);
        memories.forEach(FrontendMemory::close);
        fixture.close();
    }

    private static long gpa(int region) {
        return GPA_BASE + region * STRIDE;
    }

    private static long head(int region) {
        return 0xA000_0000_0000_0000L | region;
    }

    private static long tail(int region) {
        return 0xB000_0000_0000_0000L | region;
    }

    private FrontendRegion region(int index) {
        FrontendMemory memory = memories.get(index);
        return new FrontendRegion(new MemoryRegionMessage(gpa(index), REGION_SIZE, UVA_BASE + index * STRIDE, 0), memory.fd());
    }

    @Test
    void fiveHundredNineRegionsComeAndGoTranslatedAtEveryEdgeAndTheFiveHundredTenthIsRefused() throws Exception {
        for (int i = 0; i <= SLOTS; i++) {
            FrontendMemory memory = FrontendMemory.create(MEMFD, REGION_SIZE);
            memories.add(memory);
            memory.bytes(0, 8).set(LONG, 0, head(i));
            memory.bytes(REGION_SIZE - 8, 8).set(LONG, 0, tail(i));
        }
        long ownMappings = ProcSelf.mappingsOf(MEMFD);
        try (VhostUserFrontend frontend = VhostUserFrontend.connect(fixture.socket, Duration.ofSeconds(5))) {
            frontend.setOwner();
            frontend.getFeatures();
            frontend.setFeatures(Feature.VERSION_1.mask() | Feature.VHOST_USER_PROTOCOL_FEATURES.mask());
            frontend.setProtocolFeatures(ProtocolFeature.of(ProtocolFeature.REPLY_ACK, ProtocolFeature.CONFIGURE_MEM_SLOTS));
            long fdsBefore = ProcSelf.openFdCount();
            assertEquals(SLOTS, frontend.getMaxMemSlots());

            long addStart = System.nanoTime();
            frontend.addMemReg(region(0));
            MemorySegment firstTablesRegion = mapped(fixture.backend.currentMemory().get(5, TimeUnit.SECONDS)
                    .translate(gpa(0), 8));
            for (int i = 1; i < SLOTS; i++) {
                frontend.addMemReg(region(i));
            }
            long addNanos = System.nanoTime() - addStart;
            assertEquals(head(0), firstTablesRegion.get(LONG, 0),
                    "region 0 was mapped once: the first table retired, and its slice still reads the mapping every later table shares");

            GuestMemory memory = fixture.backend.currentMemory().get(5, TimeUnit.SECONDS);
            assertEquals(SLOTS, memory.regionCount());
            for (int i = 0; i < SLOTS; i++) {
                long start = gpa(i);
                long end = start + REGION_SIZE;
                assertEquals(head(i), mapped(memory.translate(start, 8)).get(LONG, 0), "region " + i + "'s first bytes");
                assertEquals(tail(i), mapped(memory.translate(end - 8, 8)).get(LONG, 0), "region " + i + "'s last bytes");
                MemorySegment lastByte = mapped(memory.translate(end - 1, 1));
                assertEquals(end - 1, memory.guestPhysAddrOf(lastByte.address()), "region " + i + "'s last byte back to its address");
                assertEquals(tail(i), mapped(memory.translateFrontend(UVA_BASE + i * STRIDE + REGION_SIZE - 8, 8)).get(LONG, 0),
                        "region " + i + " by the front-end's address");
                assertEquals(AddressFault.CROSSES_REGION_END, fault(memory.translate(end - 4, 8)), "region " + i + " runs out");
                assertEquals(AddressFault.OUTSIDE_MEMORY, fault(memory.translate(end, 1)), "the byte after region " + i);
                assertEquals(AddressFault.OUTSIDE_MEMORY, fault(memory.translate(start - 1, 1)), "the byte before region " + i);
            }

            VhostUserException full = assertThrows(VhostUserException.class, () -> frontend.addMemReg(region(SLOTS)));
            assertTrue(full.getMessage().contains("ADD_MEM_REG"), full.getMessage());
            synchronized (refusals) {
                assertTrue(refusals.stream().anyMatch(line -> line.contains("the memory table is full: it holds 509 regions")),
                        "the back-end's log says why: " + refusals);
            }
            assertEquals(SLOTS, fixture.backend.currentMemory().get(5, TimeUnit.SECONDS).regionCount(),
                    "the refusal left the table as it was");

            long removeStart = System.nanoTime();
            for (int i = SLOTS - 1; i > 0; i--) {
                frontend.remMemReg(region(i));
            }
            long removeNanos = System.nanoTime() - removeStart;
            assertEquals(head(0), firstTablesRegion.get(LONG, 0), "region 0, never removed, is still the same mapping");
            frontend.remMemReg(region(0));
            assertNull(fixture.backend.currentMemory().get(5, TimeUnit.SECONDS), "the table is empty");
            assertThrows(IllegalStateException.class, () -> firstTablesRegion.get(LONG, 0), "removed, it is retired");
            BackendFixture.awaitReleased(fdsBefore, MEMFD, ownMappings);
            System.out.printf("memory slots: %d ADD_MEM_REG in %d ms, %d REM_MEM_REG in %d ms (each maps or unmaps its region alone)%n",
                    SLOTS, TimeUnit.NANOSECONDS.toMillis(addNanos), SLOTS - 1, TimeUnit.NANOSECONDS.toMillis(removeNanos));
        }
    }

    private static MemorySegment mapped(Translation translation) {
        return assertInstanceOf(Translation.Mapped.class, translation).segment();
    }

    private static AddressFault fault(Translation translation) {
        return assertInstanceOf(Translation.Fault.class, translation).reason();
    }
}
