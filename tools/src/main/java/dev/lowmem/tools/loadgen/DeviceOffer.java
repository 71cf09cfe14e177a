package dev.lowmem.tools.loadgen;

/**
 * What the backend said it can do, before the front-end chooses.
 *
 * @param features the device features GET_FEATURES offered
 * @param mtu the MTU in the config space (NET_MTU), or 0 when it did not say
 * @param maxQueuePairs the queue pairs it serves: max_virtqueue_pairs or GET_QUEUE_NUM with NET_MQ, else 1
 */
record DeviceOffer(long features, int mtu, int maxQueuePairs) {
}
