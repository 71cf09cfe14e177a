package dev.lowmem.vmm.core.event;

import java.io.IOException;

/**
 * What a worker does between duty cycles (Agrona's pattern): the worker loop is
 * {@code while (running) idle.idle(doWork());}.
 */
@FunctionalInterface
public interface IdleStrategy {
    /** Called after each duty cycle with the amount of work it did; may spin, or block until woken. */
    void idle(int workCount) throws IOException;
}
