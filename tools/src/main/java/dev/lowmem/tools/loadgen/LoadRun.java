package dev.lowmem.tools.loadgen;

import dev.lowmem.vmm.core.nativeio.NativeIoException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * One run: the session, a thread per queue pair, the warm-up, the measured interval (a progress
 * line a second), then the stop. Stopping goes in an order that makes the totals exact: the
 * threads post nothing more and take back what comes, the backend's rings are stopped, and what
 * it returned until then is taken last.
 */
final class LoadRun {
    static final Duration PROGRESS_INTERVAL = Duration.ofSeconds(1);

    private LoadRun() {
    }

    /** @param log what a person watching should see: the negotiation, the progress */
    static Result run(LoadSettings settings, Consumer<String> log) throws LoadgenException, InterruptedException {
        try (FrontendSession session = FrontendSession.open(settings, log)) {
            List<PairThread> threads = new ArrayList<>();
            try {
                for (int pair = 0; pair < settings.queuePairs(); pair++) {
                    PairGenerator generator = session.generator(pair);
                    generator.start();
                    threads.add(new PairThread(generator));
                }
                session.enableRings();
                threads.forEach(PairThread::start);
                return measure(settings, session, threads, log);
            } catch (NativeIoException e) {
                throw new LoadgenException("cannot start the datapath: " + e.getMessage(), e);
            } finally {
                for (PairThread thread : threads) {
                    thread.close();
                }
            }
        }
    }

    private static Result measure(LoadSettings settings, FrontendSession session, List<PairThread> threads,
            Consumer<String> log) throws LoadgenException, InterruptedException {
        Counts[] begin;
        Counts[] end;
        long nanos;
        try {
            sleepWhileRunning(threads, settings.warmup().toNanos());
            begin = counts(threads);
            long start = System.nanoTime();
            long deadline = start + settings.duration().toNanos();
            Counts last = sum(begin);
            long lastAt = start;
            while (true) {
                long now = System.nanoTime();
                if (now - deadline >= 0 || anyFailed(threads)) {
                    break;
                }
                sleepWhileRunning(threads, Math.min(PROGRESS_INTERVAL.toNanos(), deadline - now));
                long at = System.nanoTime();
                Counts current = sum(counts(threads));
                log.accept(Report.progress((at - start) / 1e9, current.minus(last), at - lastAt));
                last = current;
                lastAt = at;
            }
            end = counts(threads);
            nanos = System.nanoTime() - start;
        } finally {
            for (PairThread thread : threads) {
                thread.stopQuietly();
            }
        }
        joinAll(threads);
        String problem = null;
        try {
            session.stopRings();
        } catch (LoadgenException e) {
            problem = e.getMessage();
        }
        // The threads have ended; what the backend returned before its rings stopped is taken here.
        Counts totals = Counts.ZERO;
        List<Counts> pairWindows = new ArrayList<>();
        for (int pair = 0; pair < threads.size(); pair++) {
            PairGenerator generator = threads.get(pair).generator();
            generator.reap();
            totals = totals.plus(generator.counts());
            pairWindows.add(end[pair].minus(begin[pair]));
        }
        return new Result(settings, session.plan(), sum(end).minus(sum(begin)), List.copyOf(pairWindows), nanos,
                totals, problem);
    }

    /** Waits for every thread, so none still runs when the memory goes, then reports the first failure. */
    private static void joinAll(List<PairThread> threads) throws InterruptedException, LoadgenException {
        LoadgenException failure = null;
        for (PairThread thread : threads) {
            try {
                thread.join();
            } catch (LoadgenException e) {
                if (failure == null) {
                    failure = e;
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private static void sleepWhileRunning(List<PairThread> threads, long nanos) throws InterruptedException {
        long deadline = System.nanoTime() + nanos;
        for (long left = nanos; left > 0 && !anyFailed(threads); left = deadline - System.nanoTime()) {
            Thread.sleep(Duration.ofNanos(Math.min(left, Duration.ofMillis(100).toNanos())));
        }
    }

    private static boolean anyFailed(List<PairThread> threads) {
        for (PairThread thread : threads) {
            if (thread.failed()) {
                return true;
            }
        }
        return false;
    }

    private static Counts[] counts(List<PairThread> threads) {
        Counts[] counts = new Counts[threads.size()];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = threads.get(i).generator().counts();
        }
        return counts;
    }

    private static Counts sum(Counts[] counts) {
        Counts total = Counts.ZERO;
        for (Counts c : counts) {
            total = total.plus(c);
        }
        return total;
    }
}
