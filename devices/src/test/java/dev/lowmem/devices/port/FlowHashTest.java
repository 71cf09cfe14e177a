package dev.lowmem.devices.port;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** The flow hash reads a connection's addresses and ports, and only those. */
class FlowHashTest {
    @Test
    void framesOfOneConnectionHashAlikeWhateverElseTheyCarry() {
        byte[] first = udp4(0x0A000001, 0x0A000002, 40000, 5201, 0);
        byte[] later = udp4(0x0A000001, 0x0A000002, 40000, 5201, 99);
        later[5] = 1;
        later[14 + 8] = 3;

        assertEquals(hash(first), hash(later), "MAC, TTL and payload differ, the connection does not");
    }

    @Test
    void aVlanTagIsSkipped() {
        byte[] plain = udp4(0x0A000001, 0x0A000002, 40000, 5201, 0);
        ByteBuffer tagged = ByteBuffer.allocate(plain.length + 4);
        tagged.put(plain, 0, 12).putShort((short) 0x8100).putShort((short) 7).put(plain, 12, plain.length - 12);

        assertEquals(hash(plain), hash(tagged.array()));
    }

    @Test
    void connectionsSpreadOverTwoQueuesAndTheirPortsCount() {
        int[] perQueue = new int[2];
        for (int port = 40000; port < 40064; port++) {
            perQueue[Math.floorMod(hash(udp4(0x0A000001, 0x0A000002, port, 5201, 0)), 2)]++;
        }
        assertTrue(perQueue[0] >= 20 && perQueue[1] >= 20, perQueue[0] + " and " + perQueue[1] + " of 64 connections");
        assertNotEquals(hash(udp4(1, 2, 40000, 5201, 0)), hash(udp4(1, 2, 40001, 5201, 0)));
        assertNotEquals(hash(udp4(1, 2, 40000, 5201, 0)), hash(udp4(1, 3, 40000, 5201, 0)));
    }

    @Test
    void ipv6ConnectionsAndNonIpFramesHashToo() {
        assertNotEquals(hash(ipv6(1, 40000)), hash(ipv6(1, 40001)));
        assertNotEquals(hash(ipv6(1, 40000)), hash(ipv6(2, 40000)));
        byte[] arpA = new byte[42];
        byte[] arpB = new byte[42];
        arpA[12] = 0x08;
        arpA[13] = 0x06;
        System.arraycopy(arpA, 12, arpB, 12, 2);
        arpB[11] = 1;
        assertNotEquals(hash(arpA), hash(arpB), "by MAC addresses");
    }

    /** A UDP/IPv4 frame of 60 bytes; {@code fill} in its payload. */
    private static byte[] udp4(int source, int destination, int sourcePort, int destinationPort, int fill) {
        ByteBuffer frame = ByteBuffer.allocate(60);
        frame.putShort(0, (short) 0x0800);
        frame.position(12).putShort((short) 0x0800);
        frame.put((byte) 0x45).put((byte) 0).putShort((short) 46).putInt(0).put((byte) 64).put((byte) 17).putShort((short) 0);
        frame.putInt(source).putInt(destination);
        frame.putShort((short) sourcePort).putShort((short) destinationPort).putShort((short) 26).putShort((short) 0);
        while (frame.hasRemaining()) {
            frame.put((byte) fill);
        }
        return frame.array();
    }

    /** A TCP/IPv6 frame whose source address ends in {@code source}. */
    private static byte[] ipv6(int source, int sourcePort) {
        ByteBuffer frame = ByteBuffer.allocate(14 + 40 + 20);
        frame.position(12).putShort((short) 0x86DD);
        frame.putInt(0x60000000).putShort((short) 20).put((byte) 6).put((byte) 64);
        frame.putLong(0xFE80_0000_0000_0000L).putLong(source).putLong(0xFE80_0000_0000_0000L).putLong(9);
        frame.putShort((short) sourcePort).putShort((short) 22);
        return frame.array();
    }

    private static int hash(byte[] frame) {
        int length = Math.min(frame.length, FlowHash.HEAD);
        return FlowHash.of(MemorySegment.ofArray(frame), length);
    }
}
