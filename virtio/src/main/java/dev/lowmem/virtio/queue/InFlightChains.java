package dev.lowmem.virtio.queue;

/**
 * The chains a driver has posted and not yet taken back, by id, with the ring descriptors each
 * holds: a device returning an id twice, or one never posted, is caught here.
 */
final class InFlightChains {
    /** Ring descriptors held by the chain with that id; 0 when the id is not in flight. */
    private final int[] descriptors;
    private int count;

    InFlightChains(int size) {
        descriptors = new int[size];
    }

    void start(int id, int ringDescriptors) {
        descriptors[id] = ringDescriptors;
        count++;
    }

    /** @return the ring descriptors the chain held */
    int finish(int id) {
        int held = held(id);
        descriptors[id] = 0;
        count--;
        return held;
    }

    /** The ring descriptors held by the chain the device returned under {@code id}. */
    int held(int id) {
        if (id < 0 || id >= descriptors.length || descriptors[id] == 0) {
            throw new IllegalStateException("the device returned chain id " + id + ", which is not in flight");
        }
        return descriptors[id];
    }

    int count() {
        return count;
    }
}
