package dev.lowmem.benchmarks;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

/**
 * How the datapath's benchmarks run, which JMH reads from a benchmark's superclasses: the
 * average time of an operation in nanoseconds, one fork with native access, five 1-s warm-up
 * and five 1-s measured iterations.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
// Guest memory is mapped with FFM (a restricted method); JMH 1.37 calls sun.misc.Unsafe, which JDK 25 warns about.
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public abstract class NanosPerOperation {
}
