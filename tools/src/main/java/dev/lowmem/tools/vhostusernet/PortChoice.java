package dev.lowmem.tools.vhostusernet;

import dev.lowmem.devices.port.LoopbackPort;
import dev.lowmem.devices.port.Port;
import dev.lowmem.devices.port.SinkPort;
import dev.lowmem.devices.port.SourcePort;
import java.io.IOException;

/** The host side the command connects the guest's NIC to: exactly one of the port options. */
sealed interface PortChoice {

    /**
     * Opens the port for {@code queuePairs} pairs.
     *
     * @throws IOException when the host refuses it (a TAP that is busy or not ours to open)
     * @throws IllegalArgumentException when the port cannot serve that many pairs
     */
    Port open(int queuePairs) throws IOException;

    /** {@code --tap NAME}: the guest meets the host's network stack on a TAP device. */
    record Tap(String name) implements PortChoice {
        @Override
        public Port open(int queuePairs) throws IOException {
            // TapPort comes from the tap-port branch; until it is merged, --tap is refused here alone.
            throw new IOException("--tap " + name + ": TAP devices are not available in this build yet");
        }
    }

    /** {@code --loopback}: what the guest sends comes back to it. */
    record Loopback() implements PortChoice {
        @Override
        public Port open(int queuePairs) {
            return new LoopbackPort(queuePairs);
        }
    }

    /** {@code --sink}: what the guest sends is counted and dropped. */
    record Sink() implements PortChoice {
        @Override
        public Port open(int queuePairs) {
            return new SinkPort();
        }
    }

    /** {@code --source SIZE}: the guest receives generated frames of {@code frameSize} bytes. */
    record Source(int frameSize) implements PortChoice {
        @Override
        public Port open(int queuePairs) {
            return new SourcePort(frameSize, queuePairs);
        }
    }
}
