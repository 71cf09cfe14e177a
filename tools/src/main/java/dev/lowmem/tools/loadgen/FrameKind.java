package dev.lowmem.tools.loadgen;

import dev.lowmem.devices.wire.VirtioNetHeader;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The frames the generator transmits, each written once into its slot of guest memory as the
 * virtio-net header followed by the Ethernet frame; per frame only the sequence number changes.
 *
 * <pre>
 * PLAIN  ff:ff:ff:ff:ff:ff  02:00:00:00:00:02  88b5 | sequence (8, big-endian) | pattern ...
 *        virtio_net_hdr all zeros: no offload asked
 * TSO4   ff:ff:ff:ff:ff:ff  02:00:00:00:00:02  0800 | IPv4 198.18.0.2 -> 198.18.0.1, DF, TCP
 *        | TCP 49152 -> 9, ACK PSH, checksum = the pseudo-header's sum | sequence (8) | pattern ...
 *        virtio_net_hdr: NEEDS_CSUM, GSO_TCPV4, hdr_len 54, gso_size MSS, csum_start 34, csum_offset 16
 * </pre>
 */
enum FrameKind {
    /** A frame the device passes on as it is: up to the MTU plus the Ethernet header. */
    PLAIN(FrameKind.ETHERNET_HEADER),
    /** One TCP/IPv4 segment of up to 64 KiB that the backend (or whoever receives it) cuts to the MSS. */
    TSO4(FrameKind.ETHERNET_HEADER + FrameKind.IPV4_HEADER + FrameKind.TCP_HEADER);

    static final int ETHERNET_HEADER = 14;
    static final int ETHER_TYPE = 0x88B5;
    static final int ETHER_TYPE_IPV4 = 0x0800;
    static final byte[] SOURCE_MAC = {0x02, 0, 0, 0, 0, 0x02};
    /** RFC 2544's benchmarking range. */
    static final byte[] SOURCE_IP = {(byte) 198, 18, 0, 2};
    static final byte[] DESTINATION_IP = {(byte) 198, 18, 0, 1};
    static final int SOURCE_PORT = 49152;
    /** The discard service. */
    static final int DESTINATION_PORT = 9;
    static final int IPV4_HEADER = 20;
    static final int TCP_HEADER = 20;
    /** The IPv4 header and the TCP header without options, which the MSS leaves out of the MTU. */
    static final int TCP_IPV4_HEADERS = IPV4_HEADER + TCP_HEADER;
    static final int TCP_CHECKSUM_OFFSET = 16;
    static final int PROTOCOL_TCP = 6;
    static final ValueLayout.OfLong SEQUENCE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort BE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final int sequenceOffset;

    FrameKind(int sequenceOffset) {
        this.sequenceOffset = sequenceOffset;
    }

    /** Where the sequence number is, from the frame's first byte. */
    int sequenceOffset() {
        return sequenceOffset;
    }

    /**
     * Writes the header and the frame (sequence 0) at the start of {@code slot}.
     *
     * @param frameSize the Ethernet frame's length, without the header
     * @param mss for TSO4 the segment size the receiver cuts to; ignored for PLAIN
     */
    void write(MemorySegment slot, int headerSize, int frameSize, int mss) {
        if (frameSize < sequenceOffset + Long.BYTES) {
            throw new IllegalArgumentException(this + " frames hold at least " + (sequenceOffset + Long.BYTES)
                    + " bytes, not " + frameSize);
        }
        MemorySegment header = slot.asSlice(0, headerSize).fill((byte) 0);
        MemorySegment frame = slot.asSlice(headerSize, frameSize);
        frame.asSlice(0, 6).fill((byte) 0xFF);
        MemorySegment.copy(MemorySegment.ofArray(SOURCE_MAC), 0, frame, 6, 6);
        frame.set(BE16, 12, (short) (this == PLAIN ? ETHER_TYPE : ETHER_TYPE_IPV4));
        frame.set(SEQUENCE, sequenceOffset, 0L);
        for (int i = sequenceOffset + Long.BYTES; i < frameSize; i++) {
            frame.set(ValueLayout.JAVA_BYTE, i, (byte) i);
        }
        if (this == TSO4) {
            if (frameSize - ETHERNET_HEADER > 0xFFFF) {
                throw new IllegalArgumentException("a " + frameSize + "-byte frame holds an IPv4 packet longer than"
                        + " 65535 bytes");
            }
            writeTcpIpv4(frame.asSlice(ETHERNET_HEADER), frameSize - ETHERNET_HEADER);
            header.set(ValueLayout.JAVA_BYTE, VirtioNetHeader.FLAGS_OFFSET, (byte) VirtioNetHeader.F_NEEDS_CSUM);
            header.set(ValueLayout.JAVA_BYTE, VirtioNetHeader.GSO_TYPE_OFFSET, (byte) VirtioNetHeader.GSO_TCPV4);
            header.set(LE16, VirtioNetHeader.HDR_LEN_OFFSET, (short) sequenceOffset);
            header.set(LE16, VirtioNetHeader.GSO_SIZE_OFFSET, (short) mss);
            header.set(LE16, VirtioNetHeader.CSUM_START_OFFSET, (short) (ETHERNET_HEADER + IPV4_HEADER));
            header.set(LE16, VirtioNetHeader.CSUM_OFFSET_OFFSET, (short) TCP_CHECKSUM_OFFSET);
        }
    }

    private static void writeTcpIpv4(MemorySegment ip, int ipLength) {
        ip.asSlice(0, TCP_IPV4_HEADERS).fill((byte) 0);
        ip.set(ValueLayout.JAVA_BYTE, 0, (byte) 0x45);
        ip.set(BE16, 2, (short) ipLength);
        ip.set(BE16, 6, (short) 0x4000);
        ip.set(ValueLayout.JAVA_BYTE, 8, (byte) 64);
        ip.set(ValueLayout.JAVA_BYTE, 9, (byte) PROTOCOL_TCP);
        MemorySegment.copy(MemorySegment.ofArray(SOURCE_IP), 0, ip, 12, 4);
        MemorySegment.copy(MemorySegment.ofArray(DESTINATION_IP), 0, ip, 16, 4);
        ip.set(BE16, 10, (short) ~fold(sum(ip, 0, IPV4_HEADER)));
        MemorySegment tcp = ip.asSlice(IPV4_HEADER);
        tcp.set(BE16, 0, (short) SOURCE_PORT);
        tcp.set(BE16, 2, (short) DESTINATION_PORT);
        tcp.set(ValueLayout.JAVA_BYTE, 12, (byte) 0x50);
        tcp.set(ValueLayout.JAVA_BYTE, 13, (byte) 0x18);
        tcp.set(BE16, 14, (short) 0xFFFF);
        // A partial checksum (NEEDS_CSUM) leaves the pseudo-header's sum in the field, uncomplemented;
        // whoever completes it adds the bytes from csum_start on (virtio 1.2, 5.1.6.2).
        long pseudo = sum(ip, 12, 8) + PROTOCOL_TCP + (ipLength - IPV4_HEADER);
        tcp.set(BE16, TCP_CHECKSUM_OFFSET, (short) fold(pseudo));
    }

    /** The one's complement sum of big-endian 16-bit words, not yet folded. */
    static long sum(MemorySegment bytes, long offset, int length) {
        long sum = 0;
        for (int i = 0; i + 1 < length; i += 2) {
            sum += bytes.get(BE16, offset + i) & 0xFFFF;
        }
        if ((length & 1) != 0) {
            sum += (bytes.get(ValueLayout.JAVA_BYTE, offset + length - 1) & 0xFF) << 8;
        }
        return sum;
    }

    /** The sum folded into 16 bits. */
    static int fold(long sum) {
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) sum;
    }
}
