package dev.lowmem.devices.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.lowmem.devices.wire.VirtioNetConfig;
import dev.lowmem.vmm.core.testing.FuzzInput;

/**
 * The config space against any offset, length and data a front-end's GET_CONFIG and SET_CONFIG
 * can carry (docs/FUZZING.md): a range inside the 12 bytes is served, and for a write inside the
 * MAC applied; any other is refused with IllegalArgumentException and changes nothing. No other
 * throwable may come out, whatever the integers' sizes.
 *
 * <p>Input: operations until it ends, each a u32 offset, then a byte whose bit 0 picks a read (a
 * u32 length follows) or a write (a byte count up to 24 and the bytes follow).
 */
class NetConfigSpaceFuzzTest {
    private static final MacAddress MAC = MacAddress.parse("52:54:00:12:34:56");
    private static final int MAC_END = VirtioNetConfig.STATUS_OFFSET;

    @FuzzTest
    void readsAndWritesAreServedOrRefused(byte[] bytes) {
        FuzzInput input = new FuzzInput(bytes);
        NetConfigSpace config = new NetConfigSpace(MAC, 4, 1500);
        // What the space holds, kept beside it: each answer is checked against it.
        byte[] expected = config.read(0, VirtioNetConfig.SIZE);
        while (input.hasMore()) {
            int offset = input.u32();
            if ((input.u8() & 1) != 0) {
                int length = input.u32();
                if (inside(offset, length, VirtioNetConfig.SIZE)) {
                    assertArrayEquals(slice(expected, offset, length), config.read(offset, length));
                } else {
                    assertThrows(IllegalArgumentException.class, () -> config.read(offset, length));
                }
            } else {
                byte[] written = input.bytes(input.u8() % (2 * VirtioNetConfig.SIZE + 1));
                if (inside(offset, written.length, MAC_END)) {
                    config.write(offset, written);
                    System.arraycopy(written, 0, expected, offset, written.length);
                } else {
                    assertThrows(IllegalArgumentException.class, () -> config.write(offset, written));
                }
                assertArrayEquals(expected, config.read(0, VirtioNetConfig.SIZE), "a refused write changes nothing");
            }
        }
    }

    /** Whether [offset, offset + length) lies in [0, end), computed without int overflow. */
    private static boolean inside(int offset, int length, int end) {
        return offset >= 0 && length >= 0 && (long) offset + length <= end;
    }

    private static byte[] slice(byte[] bytes, int offset, int length) {
        byte[] slice = new byte[length];
        System.arraycopy(bytes, offset, slice, 0, length);
        return slice;
    }
}
