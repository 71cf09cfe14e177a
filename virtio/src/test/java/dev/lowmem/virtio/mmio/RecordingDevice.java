package dev.lowmem.virtio.mmio;

import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.FeatureNegotiationException;
import dev.lowmem.virtio.Features;
import dev.lowmem.virtio.device.ActiveQueue;
import dev.lowmem.virtio.device.VirtioDevice;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** A device with no datapath that records what its transport asks of it, for the register tests. */
final class RecordingDevice implements VirtioDevice {
    /** Offered: bits in both 32-bit halves. */
    static final long FEATURES = Features.of(Feature.VERSION_1, Feature.RING_EVENT_IDX, Feature.NET_MAC);
    static final int QUEUES = 2;

    final List<ActiveQueue> started = new ArrayList<>();
    final List<Integer> stopped = new ArrayList<>();
    /** Set: {@link #startQueue} refuses with it, as a device that cannot watch a kick does. */
    String startRefusal;
    long acknowledged;
    int resets;
    final byte[] config = {0x52, 0x54, 0, 0x12, 0x34, 0x56, 0x01, 0x00};

    @Override
    public long deviceFeatures() {
        return FEATURES;
    }

    @Override
    public int maxQueues() {
        return QUEUES;
    }

    @Override
    public void acknowledgeFeatures(long features) throws FeatureNegotiationException {
        acknowledged = Features.accept(FEATURES, features);
    }

    @Override
    public byte[] readConfig(int offset, int length) {
        if (offset < 0 || length > config.length - offset) {
            throw new IllegalArgumentException("config range " + offset + "+" + length);
        }
        return Arrays.copyOfRange(config, offset, offset + length);
    }

    @Override
    public void writeConfig(int offset, byte[] data) {
        if (offset < 0 || offset + data.length > 6) {
            throw new IllegalArgumentException("only the MAC is writable");
        }
        System.arraycopy(data, 0, config, offset, data.length);
    }

    @Override
    public void startQueue(ActiveQueue queue) {
        if (startRefusal != null) {
            throw new IllegalStateException(startRefusal);
        }
        started.add(queue);
    }

    @Override
    public void stopQueue(int index) {
        stopped.add(index);
    }

    @Override
    public void reset() {
        resets++;
        acknowledged = 0;
    }
}
