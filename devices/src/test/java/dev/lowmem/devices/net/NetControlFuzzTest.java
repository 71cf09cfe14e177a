package dev.lowmem.devices.net;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.lowmem.vmm.core.testing.FuzzInput;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Control queue commands as a guest can write them (docs/FUZZING.md): any features, any class,
 * code and data. Each command is carried out or refused with VIRTIO_NET_ERR, never thrown; the
 * receiving pairs stay within the device's; the filter that results judges any frame head
 * without throwing.
 *
 * <p>Input: the driver's features (u64), then commands until it ends, each a u16 length and that
 * many bytes (class, code, data), followed by a frame's first 16 bytes and a u16 frame length.
 */
class NetControlFuzzTest {
    private static final int PAIRS = 4;

    @FuzzTest
    void commandsAreCarriedOutOrRefused(byte[] bytes) {
        FuzzInput input = new FuzzInput(bytes);
        NetControl control = new NetControl(new NetConfigSpace(NetDeviceOptions.DEFAULT_MAC, PAIRS, 1500), PAIRS, pairs -> { });
        control.configure(input.u64());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment command = arena.allocate(ControlPath.MAX_COMMAND);
            while (input.hasMore()) {
                byte[] written = input.bytes(input.u16() % 2048);
                command.copyFrom(MemorySegment.ofArray(written));
                byte ack = control.execute(command, written.length);
                assertTrue(ack == NetControl.OK || ack == NetControl.ERR, "ack " + ack);
                assertTrue(control.receivingPairs() >= 1 && control.receivingPairs() <= PAIRS);
                control.filter().accepts(MemorySegment.ofArray(input.bytes(RxFilter.HEAD_BYTES)), input.u16());
            }
        }
    }
}
