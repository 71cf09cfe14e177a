package dev.lowmem.devices.port;

import java.nio.ByteBuffer;

/**
 * Ethernet frames as a guest builds them (ARP, IPv4 with ICMP echo or UDP), checksums included,
 * and the offsets and checksum arithmetic to read the host's answers. Network byte order.
 */
public final class EthernetFrames {
    public static final int ETHERNET_HEADER = 14;
    public static final int DESTINATION_MAC = 0;
    public static final int SOURCE_MAC = 6;
    public static final int ETHER_TYPE = 12;
    public static final int TYPE_IPV4 = 0x0800;
    public static final int TYPE_ARP = 0x0806;

    // ARP for IPv4 over Ethernet, from the start of the frame
    public static final int ARP_LENGTH = 28;
    public static final int ARP_OPERATION = 20;
    public static final int ARP_SENDER_MAC = 22;
    public static final int ARP_SENDER_IP = 28;
    public static final int ARP_TARGET_MAC = 32;
    public static final int ARP_TARGET_IP = 38;
    public static final int ARP_REQUEST = 1;
    public static final int ARP_REPLY = 2;

    // IPv4 without options, from the start of the frame
    public static final int IP = ETHERNET_HEADER;
    public static final int IP_HEADER = 20;
    public static final int IP_PROTOCOL = IP + 9;
    public static final int IP_SOURCE = IP + 12;
    public static final int IP_DESTINATION = IP + 16;
    public static final int PROTOCOL_ICMP = 1;
    public static final int PROTOCOL_UDP = 17;

    // ICMP echo and UDP, from the start of the frame
    public static final int L4 = IP + IP_HEADER;
    public static final int ICMP_TYPE = L4;
    public static final int ICMP_ECHO_IDENTIFIER = L4 + 4;
    public static final int ICMP_ECHO_SEQUENCE = L4 + 6;
    public static final int ICMP_ECHO_HEADER = 8;
    public static final int ICMP_ECHO_REQUEST = 8;
    public static final int ICMP_ECHO_REPLY = 0;
    public static final int UDP_SOURCE_PORT = L4;
    public static final int UDP_DESTINATION_PORT = L4 + 2;
    public static final int UDP_CHECKSUM = L4 + 6;
    public static final int UDP_HEADER = 8;

    public static final byte[] BROADCAST = {-1, -1, -1, -1, -1, -1};

    private EthernetFrames() {
    }

    /** "Who has {@code targetIp}? Tell {@code senderIp}", broadcast. */
    /** The frame's remaining bytes, as a driver sends them. */
    public static byte[] bytes(ByteBuffer frame) {
        byte[] bytes = new byte[frame.remaining()];
        frame.get(bytes);
        return bytes;
    }

    public static ByteBuffer arpRequest(byte[] senderMac, byte[] senderIp, byte[] targetIp) {
        ByteBuffer frame = ethernet(BROADCAST, senderMac, TYPE_ARP, ARP_LENGTH);
        frame.putShort((short) 1).putShort((short) TYPE_IPV4).put((byte) 6).put((byte) 4)
                .putShort((short) ARP_REQUEST).put(senderMac).put(senderIp).put(new byte[6]).put(targetIp);
        return frame.flip();
    }

    public static ByteBuffer icmpEchoRequest(Endpoints endpoints, int identifier, int sequence, byte[] payload) {
        int length = ICMP_ECHO_HEADER + payload.length;
        ByteBuffer frame = ipv4(endpoints, PROTOCOL_ICMP, length);
        frame.put((byte) ICMP_ECHO_REQUEST).put((byte) 0).putShort((short) 0)
                .putShort((short) identifier).putShort((short) sequence).put(payload);
        frame.putShort(L4 + 2, (short) ~checksum(frame, L4, frame.position(), 0));
        return frame.flip();
    }

    /**
     * A UDP datagram whose checksum field holds only the pseudo-header's sum, as a guest leaves it
     * for a device to finish from {@code csum_start} ({@link #L4}) and store at
     * {@code csum_offset} 6 (VIRTIO_NET_HDR_F_NEEDS_CSUM).
     */
    public static ByteBuffer udpWithPartialChecksum(Endpoints endpoints, int sourcePort, int destinationPort, byte[] payload) {
        int length = UDP_HEADER + payload.length;
        ByteBuffer frame = ipv4(endpoints, PROTOCOL_UDP, length);
        frame.putShort((short) sourcePort).putShort((short) destinationPort).putShort((short) length)
                .putShort((short) pseudoHeaderSum(frame)).put(payload);
        return frame.flip();
    }

    private static ByteBuffer ethernet(byte[] destination, byte[] source, int type, int payloadLength) {
        return ByteBuffer.allocate(ETHERNET_HEADER + payloadLength).put(destination).put(source).putShort((short) type);
    }

    private static ByteBuffer ipv4(Endpoints endpoints, int protocol, int payloadLength) {
        ByteBuffer frame = ethernet(endpoints.destinationMac(), endpoints.sourceMac(), TYPE_IPV4, IP_HEADER + payloadLength);
        frame.put((byte) 0x45).put((byte) 0).putShort((short) (IP_HEADER + payloadLength))
                .putShort((short) 0).putShort((short) 0x4000) // identification 0, don't fragment
                .put((byte) 64).put((byte) protocol).putShort((short) 0)
                .put(endpoints.sourceIp()).put(endpoints.destinationIp());
        frame.putShort(IP + 10, (short) ~checksum(frame, IP, IP + IP_HEADER, 0));
        return frame;
    }

    /** The folded, uncomplemented sum of the IPv4 pseudo-header of the frame's L4 segment. */
    public static int pseudoHeaderSum(ByteBuffer frame) {
        int l4Length = (frame.getShort(IP + 2) & 0xFFFF) - IP_HEADER;
        int sum = checksum(frame, IP_SOURCE, IP_DESTINATION + 4, 0);
        return fold(sum + (frame.get(IP_PROTOCOL) & 0xFF) + l4Length);
    }

    /** The one's complement sum (RFC 1071), folded, uncomplemented, of bytes {@code [from, to)} plus {@code initial}. */
    public static int checksum(ByteBuffer frame, int from, int to, int initial) {
        long sum = initial;
        for (int i = from; i + 1 < to; i += 2) {
            sum += frame.getShort(i) & 0xFFFF;
        }
        if (((to - from) & 1) != 0) {
            sum += (frame.get(to - 1) & 0xFF) << 8;
        }
        return fold(sum);
    }

    private static int fold(long sum) {
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) sum;
    }

    /** Whether the frame's UDP checksum, as it stands, is right: the sum with the pseudo-header is 0xFFFF. */
    public static boolean udpChecksumIsValid(ByteBuffer frame) {
        int end = IP + (frame.getShort(IP + 2) & 0xFFFF);
        return checksum(frame, L4, end, pseudoHeaderSum(frame)) == 0xFFFF;
    }

    /** Does what a NIC does for NEEDS_CSUM: sums from {@code csumStart} to the end and stores the complement at {@code csumStart + csumOffset}. */
    public static void finishChecksum(ByteBuffer frame, int csumStart, int csumOffset) {
        int end = IP + (frame.getShort(IP + 2) & 0xFFFF);
        frame.putShort(csumStart + csumOffset, (short) ~checksum(frame, csumStart, end, 0));
    }

    public static byte[] bytes(ByteBuffer frame, int offset, int length) {
        byte[] bytes = new byte[length];
        frame.get(offset, bytes);
        return bytes;
    }

    /** Who an IPv4 frame is from and to, at both layers. */
    public record Endpoints(byte[] sourceMac, byte[] sourceIp, byte[] destinationMac, byte[] destinationIp) {
    }
}
