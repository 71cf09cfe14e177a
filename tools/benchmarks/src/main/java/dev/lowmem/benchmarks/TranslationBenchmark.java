package dev.lowmem.benchmarks;

import dev.lowmem.vmm.core.memory.GuestMemory;
import dev.lowmem.vmm.core.memory.GuestRegion;
import dev.lowmem.vmm.core.memory.Memfd;
import dev.lowmem.vmm.core.memory.ScatterList;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Guest-physical address translation against tables of 1, 8, 64 and 509 regions (509: QEMU's
 * VHOST_USER_MAX_RAM_SLOTS, what GET_MAX_MEM_SLOTS answers): {@code gather} is what the datapath
 * calls for every descriptor (a binary search over the regions by address, then one piece
 * appended to a scatter list, no allocation), {@code guestPhysAddrOf} what dirty logging calls for
 * every write. Each invocation translates 1024 addresses spread over every region at random, so
 * the search meets its worst case as often as a guest's buffers spread over the table would.
 * The score is ns per address.
 */
@State(Scope.Thread)
@Warmup(iterations = 3, time = 1)
public class TranslationBenchmark extends NanosPerOperation {
    private static final int ADDRESSES = 1024;
    private static final long REGION_SIZE = 64 << 10;
    private static final long STRIDE = 1 << 20;

    @Param({"1", "8", "64", "509"})
    int regions;

    private final List<FileDescriptor> fds = new ArrayList<>();
    private GuestMemory memory;
    private final long[] addresses = new long[ADDRESSES];
    private final long[] hostAddresses = new long[ADDRESSES];
    private final ScatterList list = new ScatterList(1);

    @Setup
    public void map() throws Exception {
        List<GuestRegion> table = new ArrayList<>();
        for (int i = 0; i < regions; i++) {
            FileDescriptor fd = Memfd.createSealable("translation-bench", REGION_SIZE);
            fds.add(fd);
            table.add(new GuestRegion(i * STRIDE, REGION_SIZE, 0x7e00_0000_0000L + i * STRIDE, 0, fd));
        }
        memory = GuestMemory.map(table);
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < ADDRESSES; i++) {
            addresses[i] = random.nextInt(regions) * STRIDE + random.nextLong(REGION_SIZE - 1500);
            list.clear();
            memory.gather(addresses[i], 1, list);
            hostAddresses[i] = list.address(0);
        }
    }

    @TearDown
    public void unmap() {
        memory.close();
        fds.forEach(FileDescriptor::close);
    }

    @Benchmark
    @OperationsPerInvocation(ADDRESSES)
    public void gather(Blackhole blackhole) {
        for (long address : addresses) {
            list.clear();
            blackhole.consume(memory.gather(address, 1500, list));
        }
    }

    @Benchmark
    @OperationsPerInvocation(ADDRESSES)
    public void guestPhysAddrOf(Blackhole blackhole) {
        for (long host : hostAddresses) {
            blackhole.consume(memory.guestPhysAddrOf(host));
        }
    }
}
