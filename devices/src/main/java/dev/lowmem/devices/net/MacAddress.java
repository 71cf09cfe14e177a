package dev.lowmem.devices.net;

import java.util.HexFormat;

/** A 48-bit Ethernet address, as the virtio-net config space carries it. */
public record MacAddress(long value) {
    private static final HexFormat COLONS = HexFormat.ofDelimiter(":");

    public MacAddress {
        if ((value & ~0xFFFF_FFFF_FFFFL) != 0) {
            throw new IllegalArgumentException("a MAC address has 48 bits: 0x" + Long.toHexString(value));
        }
    }

    /** "52:54:00:12:34:56". */
    public static MacAddress parse(String text) {
        byte[] bytes;
        try {
            bytes = COLONS.parseHex(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a MAC address like 52:54:00:12:34:56: " + text, e);
        }
        if (bytes.length != 6) {
            throw new IllegalArgumentException("not a MAC address like 52:54:00:12:34:56: " + text);
        }
        if ((bytes[0] & 1) != 0) {
            throw new IllegalArgumentException("a device address must not be multicast: " + text);
        }
        long value = 0;
        for (byte b : bytes) {
            value = value << 8 | (b & 0xFF);
        }
        return new MacAddress(value);
    }

    /** Six bytes, first on the wire first. */
    public byte[] bytes() {
        byte[] bytes = new byte[6];
        for (int i = 0; i < 6; i++) {
            bytes[i] = (byte) (value >>> (40 - 8 * i));
        }
        return bytes;
    }

    @Override
    public String toString() {
        return COLONS.formatHex(bytes());
    }
}
