package dev.lowmem.devices.port;

/**
 * A queue pair's RX queue as a thread other than its own may fill it: a switch port's sender
 * writes a frame from its guest's TX buffers straight into the receiving guest's RX buffers, one
 * copy where a queue between them would take two. It never waits: when the queue is busy (its own
 * worker, another sender, the control plane), stopped, waiting for the guest to post buffers, or
 * short of room for the frame, it says no and the sender queues the frame for the worker instead.
 */
@FunctionalInterface
public interface DirectReceiver {
    /** A receiver that always says no: a port's until its queue pair gives it one. */
    DirectReceiver NONE = frame -> false;

    /**
     * Any thread: writes {@code frame} into the guest's RX buffers now, if it can, and returns
     * them used (the driver interrupted as it asked).
     *
     * @return whether the frame is the guest's now, counted on the queue pair like any it receives
     */
    boolean tryReceive(TxFrame frame);
}
