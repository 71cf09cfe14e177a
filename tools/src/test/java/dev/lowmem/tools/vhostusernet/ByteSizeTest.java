package dev.lowmem.tools.vhostusernet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ByteSizeTest {

    @Test
    void readsPlainBytesAndPowersOf1024() {
        assertEquals(65536, ByteSize.parse("65536"));
        assertEquals(512 * 1024, ByteSize.parse("512K"));
        assertEquals(64L << 20, ByteSize.parse("64m"));
        assertEquals(2L << 30, ByteSize.parse(" 2G "));
    }

    @Test
    void refusesWhatIsNotASizeNamingIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ByteSize.parse("12X"));
        assertTrue(e.getMessage().contains("'12X' is not a size"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ByteSize.parse("-1M"));
        assertThrows(IllegalArgumentException.class, () -> ByteSize.parse(""));
        assertThrows(IllegalArgumentException.class, () -> ByteSize.parse("99999999999G"));
    }

    @Test
    void writesTheLargestUnitThatDividesIt() {
        assertEquals("64M", ByteSize.format(64L << 20));
        assertEquals("1G", ByteSize.format(1L << 30));
        assertEquals("1536K", ByteSize.format(1536 * 1024));
        assertEquals("1500", ByteSize.format(1500));
        assertEquals("0", ByteSize.format(0));
    }
}
