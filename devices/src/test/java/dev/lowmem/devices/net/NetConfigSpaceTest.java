package dev.lowmem.devices.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.lowmem.devices.wire.VirtioNetConfig;
import org.junit.jupiter.api.Test;

/** Ranges a front-end's GET_CONFIG / SET_CONFIG may name, including those NetConfigSpaceFuzzTest found. */
class NetConfigSpaceTest {
    private final NetConfigSpace config = new NetConfigSpace(MacAddress.parse("52:54:00:12:34:56"), 1, 1500);

    @Test
    void theMacIsWrittenAndReadBack() {
        byte[] mac = {0x52, 0x54, 0, 0x65, 0x43, 0x21};
        config.write(VirtioNetConfig.MAC_OFFSET, mac);
        assertArrayEquals(mac, config.read(VirtioNetConfig.MAC_OFFSET, mac.length));
    }

    @Test
    void aWritePastTheMacIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> config.write(VirtioNetConfig.STATUS_OFFSET, new byte[2]));
    }

    /** The fuzzer's first finding: offset + length wrapped negative and passed the check (an ArrayIndexOutOfBoundsException). */
    @Test
    void aReadWhoseEndOverflowsAnIntIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> config.read(707_403_551, 1_746_869_023));
    }

    @Test
    void aWriteAtTheLargestOffsetIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> config.write(Integer.MAX_VALUE, new byte[1]));
    }
}
