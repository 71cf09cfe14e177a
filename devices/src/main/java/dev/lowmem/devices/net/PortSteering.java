package dev.lowmem.devices.net;

import dev.lowmem.devices.port.Port;
import java.io.IOException;

/**
 * Which pairs the port gives the host's frames to ({@link Port#receivingPairs}): the first ones
 * whose RX queue runs, up to as many as the driver's control queue set. Under vhost-user QEMU
 * keeps the control queue and enables only the rings of the pairs its guest's driver uses (a
 * 1-vCPU guest uses one), so the running rings say it; an embedded device's driver starts every
 * queue and says it with MQ_VQ_PAIRS_SET. A pair nobody serves would otherwise hold the flows a
 * multi-queue TAP steers to it, unread. Pair 0 always receives.
 *
 * <p>The control plane's thread calls it as rings start and stop, the thread serving the control
 * queue as commands come: hence the lock.
 */
final class PortSteering {
    private static final System.Logger LOG = System.getLogger(PortSteering.class.getName());

    private final Port port;
    private final boolean[] rxRunning;
    private int controlPairs;
    /** What the port was last told; 0 before it was told anything. */
    private int told;

    PortSteering(Port port, int pairs) {
        this.port = port;
        this.rxRunning = new boolean[pairs];
        this.controlPairs = pairs;
    }

    /** Pair {@code pair}'s RX queue started or stopped. A port that refuses is logged, and keeps what it had. */
    synchronized void rxRunning(int pair, boolean running) {
        rxRunning[pair] = running;
        try {
            apply();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "the port cannot follow pair " + pair + "'s RX queue "
                    + (running ? "starting" : "stopping") + ": " + e.getMessage());
        }
    }

    /** The control queue set {@code pairs} receiving pairs (or reset them); the port refusing refuses the command. */
    synchronized void controlPairs(int pairs) throws IOException {
        int before = controlPairs;
        controlPairs = pairs;
        try {
            apply();
        } catch (IOException e) {
            controlPairs = before;
            throw e;
        }
    }

    private void apply() throws IOException {
        int running = 0;
        while (running < rxRunning.length && rxRunning[running]) {
            running++;
        }
        int pairs = Math.max(1, Math.min(running, controlPairs));
        if (pairs != told) {
            port.receivingPairs(pairs);
            told = pairs;
        }
    }
}
