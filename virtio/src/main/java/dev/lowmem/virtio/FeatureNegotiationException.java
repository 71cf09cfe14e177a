package dev.lowmem.virtio;

/** The driver's choice of features cannot be accepted; the message names the bits. */
public final class FeatureNegotiationException extends Exception {
    public FeatureNegotiationException(String message) {
        super(message);
    }
}
