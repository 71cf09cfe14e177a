package dev.lowmem.devices.net;

import dev.lowmem.virtio.device.ActiveQueue;
import dev.lowmem.virtio.queue.DescriptorChain;
import dev.lowmem.virtio.queue.DeviceQueue;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Serves the control virtqueue (virtio 1.2, 5.1.6.5): each chain is one command, its class,
 * code and data device-readable, then a device-writable ack byte. The command is copied out of
 * guest memory before {@link NetControl} reads it, so a guest changing it meanwhile changes
 * nothing; the ack is written in place and the chain returned with 1 byte written. Run by queue
 * pair 0's datapath, inside the queue's access lock.
 */
final class ControlPath {
    /** The largest command taken: Linux sends every address of the interface in one MAC_TABLE_SET. */
    static final int MAX_COMMAND = 64 << 10;

    private final NetControl control;
    private final QueuePairCounters counters;
    private final QueueWarnings warnings;
    private final MemorySegment command;
    private final MemorySegment ack;
    private DescriptorChain chain;

    ControlPath(NetControl control, QueuePairCounters counters, QueueWarnings warnings, Arena arena) {
        this.control = control;
        this.counters = counters;
        this.warnings = warnings;
        this.command = arena.allocate(MAX_COMMAND);
        this.ack = arena.allocate(1);
    }

    /**
     * Runs up to {@code burst} commands.
     *
     * @return the commands served, refused ones too
     */
    int burst(ActiveQueue queue, int burst) throws NativeIoException {
        DeviceQueue rings = queue.rings();
        if (chain == null) {
            chain = rings.newChain();
        }
        int served = 0;
        while (served < burst && rings.pop(chain)) {
            rings.pushUsed(chain, serve());
            served++;
        }
        if (served > 0) {
            rings.publishUsed();
            if (rings.needsInterrupt()) {
                queue.interruptDriver();
            }
        }
        return served;
    }

    /** @return the bytes written into the chain: 1, the ack; 0 for a chain with no room for one */
    private int serve() {
        if (chain.error() != null) {
            warnings.malformedChain(chain);
            counters.increment(NetCounter.CTRL_ERRORS);
            return 0;
        }
        if (chain.writableLength() < 1) {
            warnings.dropped(NetCounter.CTRL_ERRORS, "chain %d has no byte for the ack (%d readable)", chain.head(),
                    chain.readableLength());
            counters.increment(NetCounter.CTRL_ERRORS);
            return 0;
        }
        long length = chain.readableLength();
        byte result = NetControl.ERR;
        if (length <= MAX_COMMAND) {
            chain.buffers().copyTo(0, 0, command, 0, length);
            result = control.execute(command, (int) length);
        }
        counters.increment(result == NetControl.OK ? NetCounter.CTRL_COMMANDS : NetCounter.CTRL_ERRORS);
        ack.set(ValueLayout.JAVA_BYTE, 0, result);
        chain.buffers().copyFrom(ack, chain.firstWritablePiece(), 0);
        return 1;
    }
}
