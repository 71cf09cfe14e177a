package dev.lowmem.devices.net;

import static dev.lowmem.devices.wire.VirtioNetConfig.LINK_UP;
import static dev.lowmem.devices.wire.VirtioNetConfig.MAC_OFFSET;
import static dev.lowmem.devices.wire.VirtioNetConfig.MAC_SIZE;
import static dev.lowmem.devices.wire.VirtioNetConfig.MAX_VIRTQUEUE_PAIRS_OFFSET;
import static dev.lowmem.devices.wire.VirtioNetConfig.MTU_OFFSET;
import static dev.lowmem.devices.wire.VirtioNetConfig.SIZE;
import static dev.lowmem.devices.wire.VirtioNetConfig.STATUS_OFFSET;

import dev.lowmem.devices.wire.VirtioNetConfig;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The device's configuration space, laid out as {@link VirtioNetConfig} says, of which the driver
 * may write only the MAC (legacy drivers set it that way).
 */
final class NetConfigSpace {

    private final byte[] bytes = new byte[SIZE];

    NetConfigSpace(MacAddress mac, int queuePairs, int mtu) {
        ByteBuffer config = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        config.put(MAC_OFFSET, mac.bytes());
        config.putShort(STATUS_OFFSET, LINK_UP);
        config.putShort(MAX_VIRTQUEUE_PAIRS_OFFSET, (short) queuePairs);
        config.putShort(MTU_OFFSET, (short) mtu);
    }

    /** The MAC as the 48 low bits of a long, first byte highest: the filter's unit. */
    synchronized long mac() {
        return RxFilter.address(MemorySegment.ofArray(bytes));
    }

    synchronized byte[] read(int offset, int length) {
        checkRange(offset, length);
        return Arrays.copyOfRange(bytes, offset, offset + length);
    }

    synchronized void write(int offset, byte[] data) {
        checkRange(offset, data.length);
        if (offset + data.length > MAC_OFFSET + MAC_SIZE) {
            throw new IllegalArgumentException("config bytes " + offset + ".." + (offset + data.length)
                    + " reach past the MAC, the only field a driver may write");
        }
        System.arraycopy(data, 0, bytes, offset, data.length);
    }

    /** Compares the length with the room left, as {@code offset + length} overflows for an offset near 2^31. */
    private static void checkRange(int offset, int length) {
        if (offset < 0 || length < 0 || length > SIZE - offset) {
            throw new IllegalArgumentException("config range " + offset + "+" + length + " is outside the "
                    + SIZE + " bytes of virtio_net_config");
        }
    }
}
