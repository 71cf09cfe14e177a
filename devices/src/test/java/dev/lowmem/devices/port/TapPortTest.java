package dev.lowmem.devices.port;

import dev.lowmem.devices.net.MacAddress;
import dev.lowmem.devices.net.NetDeviceOptions;
import dev.lowmem.devices.port.EthernetFrames.Endpoints;
import dev.lowmem.devices.port.GuestSide.Received;
import dev.lowmem.devices.port.NetworkNamespace.Finished;
import dev.lowmem.devices.wire.VirtioNetHeader;
import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import dev.lowmem.vmm.core.nativeio.Errno;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import dev.lowmem.vmm.core.testing.ProcSelf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import static dev.lowmem.devices.port.EthernetFrames.ARP_LENGTH;
import static dev.lowmem.devices.port.EthernetFrames.ARP_OPERATION;
import static dev.lowmem.devices.port.EthernetFrames.ARP_REPLY;
import static dev.lowmem.devices.port.EthernetFrames.ARP_SENDER_IP;
import static dev.lowmem.devices.port.EthernetFrames.ARP_SENDER_MAC;
import static dev.lowmem.devices.port.EthernetFrames.ARP_TARGET_IP;
import static dev.lowmem.devices.port.EthernetFrames.ARP_TARGET_MAC;
import static dev.lowmem.devices.port.EthernetFrames.DESTINATION_MAC;
import static dev.lowmem.devices.port.EthernetFrames.ETHERNET_HEADER;
import static dev.lowmem.devices.port.EthernetFrames.ETHER_TYPE;
import static dev.lowmem.devices.port.EthernetFrames.ICMP_ECHO_HEADER;
import static dev.lowmem.devices.port.EthernetFrames.ICMP_ECHO_IDENTIFIER;
import static dev.lowmem.devices.port.EthernetFrames.ICMP_ECHO_REPLY;
import static dev.lowmem.devices.port.EthernetFrames.ICMP_ECHO_SEQUENCE;
import static dev.lowmem.devices.port.EthernetFrames.ICMP_TYPE;
import static dev.lowmem.devices.port.EthernetFrames.IP;
import static dev.lowmem.devices.port.EthernetFrames.IP_DESTINATION;
import static dev.lowmem.devices.port.EthernetFrames.IP_HEADER;
import static dev.lowmem.devices.port.EthernetFrames.IP_PROTOCOL;
import static dev.lowmem.devices.port.EthernetFrames.IP_SOURCE;
import static dev.lowmem.devices.port.EthernetFrames.L4;
import static dev.lowmem.devices.port.EthernetFrames.PROTOCOL_ICMP;
import static dev.lowmem.devices.port.EthernetFrames.PROTOCOL_UDP;
import static dev.lowmem.devices.port.EthernetFrames.SOURCE_MAC;
import static dev.lowmem.devices.port.EthernetFrames.TYPE_ARP;
import static dev.lowmem.devices.port.EthernetFrames.TYPE_IPV4;
import static dev.lowmem.devices.port.EthernetFrames.UDP_CHECKSUM;
import static dev.lowmem.devices.port.EthernetFrames.UDP_DESTINATION_PORT;
import static dev.lowmem.devices.port.EthernetFrames.UDP_HEADER;
import static dev.lowmem.devices.port.EthernetFrames.UDP_SOURCE_PORT;
import static dev.lowmem.devices.port.EthernetFrames.arpRequest;
import static dev.lowmem.devices.port.EthernetFrames.bytes;
import static dev.lowmem.devices.port.EthernetFrames.checksum;
import static dev.lowmem.devices.port.EthernetFrames.finishChecksum;
import static dev.lowmem.devices.port.EthernetFrames.icmpEchoRequest;
import static dev.lowmem.devices.port.EthernetFrames.pseudoHeaderSum;
import static dev.lowmem.devices.port.EthernetFrames.udpChecksumIsValid;
import static dev.lowmem.devices.port.EthernetFrames.udpWithPartialChecksum;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A {@link TapPort} against this machine's kernel, the test playing the guest. The host's end of
 * the TAP lives in a network namespace the test makes, with address 10.X.Y.1/24; the guest is
 * 10.X.Y.2 with the device's default MAC. Needs /dev/net/tun, CAP_NET_ADMIN, iproute2 and bash
 * (CI runs as root); the namespace and the TAP are gone after every test, passed or failed.
 */
class TapPortTest {
    private static final MacAddress GUEST_MAC = NetDeviceOptions.DEFAULT_MAC;
    private static final long GUEST_CSUM = Features.of(Feature.VERSION_1, Feature.NET_CSUM, Feature.NET_GUEST_CSUM);
    private static final long NO_GUEST_OFFLOADS = Features.of(Feature.VERSION_1, Feature.NET_CSUM);
    private static final long HOST_OFFLOADS = Features.of(Feature.NET_CSUM, Feature.NET_HOST_TSO4,
            Feature.NET_HOST_TSO6, Feature.NET_HOST_ECN, Feature.NET_HOST_UFO);
    private static final long GUEST_OFFLOADS = Features.of(Feature.NET_GUEST_CSUM, Feature.NET_GUEST_TSO4,
            Feature.NET_GUEST_TSO6, Feature.NET_GUEST_ECN, Feature.NET_GUEST_UFO);
    private static final int RX_CAPACITY = 2048;
    private static final int GUEST_UDP_PORT = 40_000;
    /** Flows the host sends in {@link #datagramsPerQueue}: that all of them hash to one queue has odds of 2^-31. */
    private static final int FLOWS = 32;
    private static final String TUN = "/dev/net/tun";

    private final String id = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
    private final String subnet = NetworkNamespace.randomSubnet();
    private final String hostAddress = subnet + ".1";
    private final String guestAddress = subnet + ".2";
    private final Arena arena = Arena.ofShared();
    private NetworkNamespace host;
    private TapPort port;
    private String tap;
    private byte[] hostMac;
    private GuestSide guest;

    @BeforeEach
    void hostEndInItsOwnNamespace() throws Exception {
        host = NetworkNamespace.createWithoutIpv6("lmvt-" + id);
        port = TapPort.open("lmvt" + id, 1);
        tap = port.interfaceName();
        host.adoptAsHost(tap, hostAddress + "/24"); // the port's fd stays the TAP's
        hostMac = MacAddress.parse(host.exec("cat", "/sys/class/net/" + tap + "/address").strip()).bytes();
    }

    @AfterEach
    void deleteTapAndNamespace() throws Exception {
        try {
            if (guest != null) {
                guest.close();
            }
            if (port != null) {
                port.close();
            }
            arena.close();
        } finally {
            if (host != null) {
                host.close();
            }
        }
    }

    private void negotiate(long features, int headerSize) throws Exception {
        negotiate(features, headerSize, RX_CAPACITY);
    }

    private void negotiate(long features, int headerSize, int rxCapacity) throws Exception {
        port.negotiated(features, headerSize);
        guest = new GuestSide(arena, port.queue(0), headerSize, rxCapacity);
    }

    private static byte[] ip(String address) throws Exception {
        return InetAddress.getByName(address).getAddress();
    }

    private Endpoints guestToHost() throws Exception {
        return new Endpoints(GUEST_MAC.bytes(), ip(guestAddress), hostMac, ip(hostAddress));
    }

    private Received resolveHost() throws Exception {
        assertTrue(guest.send(arpRequest(GUEST_MAC.bytes(), ip(guestAddress), ip(hostAddress))));
        return guest.receive("ARP reply", frame -> (frame.getShort(ETHER_TYPE) & 0xFFFF) == TYPE_ARP
                && frame.getShort(ARP_OPERATION) == ARP_REPLY);
    }

    @Test
    void theHostAnswersTheGuestsArpRequest() throws Exception {
        negotiate(NO_GUEST_OFFLOADS, VirtioNetHeader.SIZE);

        Received reply = resolveHost();

        ByteBuffer frame = reply.frame();
        assertEquals(VirtioNetHeader.SIZE + ETHERNET_HEADER + ARP_LENGTH, reply.length(), "a TAP does not pad to 60 bytes");
        assertArrayEquals(GUEST_MAC.bytes(), bytes(frame, DESTINATION_MAC, 6));
        assertArrayEquals(hostMac, bytes(frame, SOURCE_MAC, 6));
        assertArrayEquals(hostMac, bytes(frame, ARP_SENDER_MAC, 6));
        assertArrayEquals(ip(hostAddress), bytes(frame, ARP_SENDER_IP, 4));
        assertArrayEquals(GUEST_MAC.bytes(), bytes(frame, ARP_TARGET_MAC, 6));
        assertArrayEquals(ip(guestAddress), bytes(frame, ARP_TARGET_IP, 4));
        assertEquals(0, VirtioNetHeader.flags(reply.header()));
        assertEquals(VirtioNetHeader.GSO_NONE, VirtioNetHeader.gsoType(reply.header()));
    }

    @Test
    void theHostAnswersTheGuestsPingWithItsIdentifierSequenceAndPayload() throws Exception {
        negotiate(NO_GUEST_OFFLOADS, VirtioNetHeader.SIZE);
        resolveHost();
        byte[] payload = "lowmem-vnet ping over a TAP".getBytes(StandardCharsets.US_ASCII);

        assertTrue(guest.send(icmpEchoRequest(guestToHost(), 0x1234, 7, payload)));
        Received reply = guest.receive("ICMP echo reply", TapPortTest::isEchoReply);

        ByteBuffer frame = reply.frame();
        assertEquals(VirtioNetHeader.SIZE + L4 + ICMP_ECHO_HEADER + payload.length, reply.length());
        assertArrayEquals(ip(hostAddress), bytes(frame, IP_SOURCE, 4));
        assertArrayEquals(ip(guestAddress), bytes(frame, IP_DESTINATION, 4));
        assertEquals(0x1234, frame.getShort(ICMP_ECHO_IDENTIFIER) & 0xFFFF);
        assertEquals(7, frame.getShort(ICMP_ECHO_SEQUENCE));
        assertArrayEquals(payload, bytes(frame, L4 + ICMP_ECHO_HEADER, payload.length));
        assertEquals(0xFFFF, checksum(frame, IP, L4, 0), "IP header checksum");
        assertEquals(0xFFFF, checksum(frame, L4, L4 + ICMP_ECHO_HEADER + payload.length, 0), "ICMP checksum");
    }

    private static boolean isEchoReply(ByteBuffer frame) {
        return (frame.getShort(ETHER_TYPE) & 0xFFFF) == TYPE_IPV4 && frame.get(IP_PROTOCOL) == PROTOCOL_ICMP
                && frame.get(ICMP_TYPE) == ICMP_ECHO_REPLY;
    }

    @Test
    void aLegacyHeaderSizeIsTheOneBothWaysUse() throws Exception {
        negotiate(NO_GUEST_OFFLOADS, VirtioNetHeader.LEGACY_SIZE);

        Received reply = resolveHost();

        assertEquals(VirtioNetHeader.LEGACY_SIZE + ETHERNET_HEADER + ARP_LENGTH, reply.length());
        assertArrayEquals(ip(hostAddress), bytes(reply.frame(), ARP_SENDER_IP, 4));
    }

    @Test
    void aFrameLongerThanTheBuffersIsCutAndReportedLongerThanThem() throws Exception {
        int rxCapacity = 512;
        negotiate(NO_GUEST_OFFLOADS, VirtioNetHeader.SIZE, rxCapacity);
        resolveHost();
        byte[] payload = new byte[1400]; // within the MTU, so the reply comes whole, not in fragments
        Arrays.fill(payload, (byte) 0x5a);

        assertTrue(guest.send(icmpEchoRequest(guestToHost(), 1, 1, payload)));
        Received reply = guest.receive("ICMP echo reply", TapPortTest::isEchoReply);

        assertTrue(reply.length() > rxCapacity, "a cut frame is reported longer than the buffers: " + reply.length());
        ByteBuffer frame = reply.frame();
        assertEquals(rxCapacity - VirtioNetHeader.SIZE, frame.limit());
        assertEquals(0x5a, frame.get(frame.limit() - 1), "the buffers are filled to their last byte");
        assertEquals(0, guest.receiveNow(), "the rest of the cut frame is gone, not left for the next read");
    }

    @Test
    void aFrameThatFillsTheBuffersExactlyIsNotTakenForACutOne() throws Exception {
        int rxCapacity = 512;
        negotiate(NO_GUEST_OFFLOADS, VirtioNetHeader.SIZE, rxCapacity);
        resolveHost();
        byte[] payload = new byte[rxCapacity - VirtioNetHeader.SIZE - L4 - ICMP_ECHO_HEADER];

        assertTrue(guest.send(icmpEchoRequest(guestToHost(), 1, 2, payload)));
        Received reply = guest.receive("ICMP echo reply", TapPortTest::isEchoReply);

        assertEquals(rxCapacity, reply.length());
    }

    @Test
    void withGuestCsumTheHostHandsOverUdpWithAPartialChecksum() throws Exception {
        negotiate(GUEST_CSUM, VirtioNetHeader.SIZE);
        sendUdpFromTheHost("partial");

        Received datagram = guest.receive("UDP datagram", TapPortTest::isUdpToTheGuest);

        assertEquals(VirtioNetHeader.F_NEEDS_CSUM, VirtioNetHeader.flags(datagram.header()));
        int csumStart = VirtioNetHeader.csumStart(datagram.header());
        int csumOffset = VirtioNetHeader.csumOffset(datagram.header());
        assertEquals(L4, csumStart);
        assertEquals(UDP_CHECKSUM - L4, csumOffset);
        ByteBuffer frame = datagram.frame();
        assertEquals(pseudoHeaderSum(frame), frame.getShort(UDP_CHECKSUM) & 0xFFFF, "the field holds the pseudo-header's sum");
        assertFalse(udpChecksumIsValid(frame), "the checksum is the guest's to finish");
        finishChecksum(frame, csumStart, csumOffset);
        assertTrue(udpChecksumIsValid(frame), "finished as a NIC would, the checksum is right");
    }

    @Test
    void withoutGuestCsumTheHostHandsOverUdpWithItsChecksumDone() throws Exception {
        negotiate(NO_GUEST_OFFLOADS, VirtioNetHeader.SIZE);
        sendUdpFromTheHost("complete");

        Received datagram = guest.receive("UDP datagram", TapPortTest::isUdpToTheGuest);

        assertEquals(0, VirtioNetHeader.flags(datagram.header()));
        assertTrue(udpChecksumIsValid(datagram.frame()));
        assertArrayEquals("complete".getBytes(StandardCharsets.US_ASCII), bytes(datagram.frame(), L4 + UDP_HEADER, 8));
    }

    /** The host may send to the guest without asking for its MAC first. */
    private void teachTheHostTheGuestsMac() throws Exception {
        host.exec("ip", "neighbour", "replace", guestAddress, "lladdr", GUEST_MAC.toString(), "dev", tap, "nud", "permanent");
    }

    /** A datagram from a socket in the host's namespace to the guest's UDP port. */
    private void sendUdpFromTheHost(String payload) throws Exception {
        teachTheHostTheGuestsMac();
        host.exec("bash", "-c", "printf %s " + payload + " > /dev/udp/" + guestAddress + "/" + GUEST_UDP_PORT);
    }

    private static boolean isUdpToTheGuest(ByteBuffer frame) {
        return (frame.getShort(ETHER_TYPE) & 0xFFFF) == TYPE_IPV4 && frame.get(IP_PROTOCOL) == PROTOCOL_UDP
                && (frame.getShort(UDP_DESTINATION_PORT) & 0xFFFF) == GUEST_UDP_PORT;
    }

    @Test
    void aDatagramTheGuestLeavesAPartialChecksumInReachesASocketInTheHost() throws Exception {
        negotiate(NO_GUEST_OFFLOADS, VirtioNetHeader.SIZE);
        HostSocket socket = openHostSocket(5);

        String sent = answer(socket, VirtioNetHeader.F_NEEDS_CSUM, "finished by the host");

        Finished finished = NetworkNamespace.finish(socket.process(), 10);
        assertEquals(0, finished.exitCode(), "the host's socket got nothing: " + finished.stderr());
        assertEquals(sent, finished.stdout());
    }

    @Test
    void theSameDatagramWithoutNeedsCsumIsDroppedForItsChecksum() throws Exception {
        negotiate(NO_GUEST_OFFLOADS, VirtioNetHeader.SIZE);
        long csumErrorsBefore = udpInCsumErrors();
        HostSocket socket = openHostSocket(1);

        answer(socket, 0, "never delivered");

        Finished finished = NetworkNamespace.finish(socket.process(), 10);
        assertEquals(124, finished.exitCode(), "timeout's code: the socket waited in vain; got \"" + finished.stdout() + "\"");
        assertEquals(csumErrorsBefore + 1, udpInCsumErrors());
    }

    /**
     * A UDP socket in the host's namespace, connected to the guest's port: it says hello, so the
     * guest learns its port, then prints the first datagram back, waiting up to {@code seconds}.
     */
    private HostSocket openHostSocket(int seconds) throws Exception {
        teachTheHostTheGuestsMac();
        Process process = host.start("bash", "-c", "exec 3<>/dev/udp/" + guestAddress + "/" + GUEST_UDP_PORT
                + " && printf hello >&3 && exec timeout " + seconds + " dd bs=65536 count=1 status=none <&3");
        Received hello = guest.receive("the host socket's hello", TapPortTest::isUdpToTheGuest);
        return new HostSocket(process, hello.frame().getShort(UDP_SOURCE_PORT) & 0xFFFF);
    }

    private record HostSocket(Process process, int port) {
    }

    /**
     * Sends {@code text} to the host socket with the UDP checksum left as a guest leaves it for
     * the device (the pseudo-header's sum only), saying so in the header when {@code flags} has
     * NEEDS_CSUM.
     *
     * @return the text sent
     */
    private String answer(HostSocket socket, int flags, String text) throws Exception {
        String sent = text;
        ByteBuffer datagram = udpWithPartialChecksum(guestToHost(), GUEST_UDP_PORT, socket.port(), sent.getBytes(StandardCharsets.US_ASCII));
        // Once in 65536 the pseudo-header's sum is the whole checksum, and the datagram would pass without NEEDS_CSUM.
        while (udpChecksumIsValid(datagram)) {
            sent += ".";
            datagram = udpWithPartialChecksum(guestToHost(), GUEST_UDP_PORT, socket.port(), sent.getBytes(StandardCharsets.US_ASCII));
        }
        assertTrue(guest.send(datagram, flags, L4, UDP_CHECKSUM - L4));
        return sent;
    }

    /** The host's count of UDP datagrams dropped for a bad checksum (/proc/net/snmp, Udp: InCsumErrors). */
    private long udpInCsumErrors() throws Exception {
        List<String> udp = host.exec("cat", "/proc/net/snmp").lines().filter(line -> line.startsWith("Udp:")).toList();
        List<String> names = List.of(udp.get(0).split("\\s+"));
        return Long.parseLong(udp.get(1).split("\\s+")[names.indexOf("InCsumErrors")]);
    }

    @Test
    void aHeaderWhoseChecksumLiesOutsideTheFrameIsRefusedNamingTheTap() throws Exception {
        negotiate(NO_GUEST_OFFLOADS, VirtioNetHeader.SIZE);
        ByteBuffer arp = arpRequest(GUEST_MAC.bytes(), ip(guestAddress), ip(hostAddress));

        NativeIoException e = assertThrows(NativeIoException.class,
                () -> guest.send(arp, VirtioNetHeader.F_NEEDS_CSUM, 1000, 6));

        assertEquals(Errno.EINVAL, e.errno());
        assertTrue(e.getMessage().startsWith("writev TAP " + tap + ": EINVAL (Invalid argument): the kernel refused the frame"),
                e.getMessage());
        assertTrue(guest.send(arp), "the queue goes on after a refused frame");
    }

    @Test
    void aFrameToATapThatIsDownFailsSayingSo() throws Exception {
        negotiate(NO_GUEST_OFFLOADS, VirtioNetHeader.SIZE);
        host.exec("ip", "link", "set", tap, "down");

        NativeIoException e = assertThrows(NativeIoException.class,
                () -> guest.send(arpRequest(GUEST_MAC.bytes(), ip(guestAddress), ip(hostAddress))));

        assertEquals(Errno.EIO, e.errno());
        assertEquals("writev TAP " + tap + ": EIO (Input/output error): TAP " + tap + " is down (ip link set " + tap + " up)",
                e.getMessage());
        assertEquals(0, guest.receiveNow(), "a TAP that is down has nothing to read, and says so without an error");
    }

    @Test
    void theOffloadsOfferedAreEveryHostOneAndTheGuestOnesTheKernelAccepts() {
        long offered = port.offloadFeatures();

        assertEquals(HOST_OFFLOADS, offered & HOST_OFFLOADS, Features.describe(offered));
        assertTrue(Feature.NET_GUEST_CSUM.in(offered), "every kernel with IFF_VNET_HDR takes TUN_F_CSUM: " + Features.describe(offered));
        assertEquals(0, offered & ~(HOST_OFFLOADS | GUEST_OFFLOADS), "only offload bits: " + Features.describe(offered));
        if (Feature.NET_GUEST_ECN.in(offered)) {
            assertTrue(Feature.NET_GUEST_TSO4.in(offered) || Feature.NET_GUEST_TSO6.in(offered), "GUEST_ECN needs a GUEST_TSO");
        }
    }

    @Test
    void guestSegmentationWithoutGuestChecksumIsRefusedByTheKernelNamingTheOffloads() {
        long features = Features.of(Feature.VERSION_1, Feature.NET_GUEST_TSO4);

        NativeIoException e = assertThrows(NativeIoException.class, () -> port.negotiated(features, VirtioNetHeader.SIZE));

        assertEquals("TUNSETOFFLOAD TAP " + tap + ", offloads [TSO4]: EINVAL (Invalid argument)", e.getMessage());
    }

    @Test
    void aMultiQueuePortHasOneQueueWithItsOwnFdPerPair() throws Exception {
        long fdsBefore = ProcSelf.openFdsOn(TUN);
        String name;
        try (TapPort multi = TapPort.open("lmvq" + id, 3)) {
            name = multi.interfaceName();
            assertEquals("tap " + name, multi.describe());
            assertEquals(3, multi.maxQueuePairs());
            assertSame(multi.queue(1), multi.queue(1));
            assertNotSame(multi.queue(0).fd(), multi.queue(1).fd());
            assertEquals(fdsBefore + 3, ProcSelf.openFdsOn(TUN));
            assertEquals("tap " + name + " has queue pairs 0..2, not 3",
                    assertThrows(IndexOutOfBoundsException.class, () -> multi.queue(3)).getMessage());
            multi.negotiated(GUEST_CSUM, VirtioNetHeader.SIZE);
        }
        assertEquals(fdsBefore, ProcSelf.openFdsOn(TUN));
        assertFalse(Files.exists(Path.of("/sys/class/net", name)), "the TAP went with its fds");
    }

    @Test
    void aConnectionsRepliesComeOnOneQueueWhicheverPairSendsIt() throws Exception {
        try (NetworkNamespace multiHost = NetworkNamespace.createWithoutIpv6("lmvm-" + id);
                TapPort multi = TapPort.open("lmvm" + id, 2)) {
            String name = multi.interfaceName();
            multiHost.adoptAsHost(name, hostAddress + "/24");
            multiHost.exec("ip", "neighbour", "replace", guestAddress, "lladdr", GUEST_MAC.toString(), "dev", name,
                    "nud", "permanent");
            byte[] multiHostMac = MacAddress.parse(multiHost.exec("cat", "/sys/class/net/" + name + "/address").strip())
                    .bytes();
            multi.negotiated(NO_GUEST_OFFLOADS, VirtioNetHeader.SIZE);
            GuestSide[] pairs = new GuestSide[2];
            try (GuestSide first = new GuestSide(arena, multi.queue(0), VirtioNetHeader.SIZE, RX_CAPACITY);
                    GuestSide second = new GuestSide(arena, multi.queue(1), VirtioNetHeader.SIZE, RX_CAPACITY)) {
                pairs[0] = first;
                pairs[1] = second;
                Endpoints endpoints = new Endpoints(GUEST_MAC.bytes(), ip(guestAddress), multiHostMac, ip(hostAddress));
                byte[] payload = "one connection, two senders".getBytes(StandardCharsets.US_ASCII);
                // tun records a connection's queue after it has passed the frame up, so the reply to the
                // very first frame may be sent before the record exists, by the hash alone: not counted.
                assertTrue(pairs[0].send(icmpEchoRequest(endpoints, 0x4242, 0, payload)));
                replyQueue(pairs);
                int[] repliesOn = new int[2];
                for (int sequence = 1; sequence <= 6; sequence++) {
                    // The guest's vCPUs take turns sending, as a guest's ACKs do.
                    assertTrue(pairs[sequence % 2].send(icmpEchoRequest(endpoints, 0x4242, sequence, payload)));
                    repliesOn[replyQueue(pairs)]++;
                }
                assertTrue(repliesOn[0] == 6 || repliesOn[1] == 6,
                        "replies on queue 0: " + repliesOn[0] + ", on queue 1: " + repliesOn[1]);
            }
        }
    }

    @Test
    void theHostsFlowsReachOnlyThePairsThatReceive() throws Exception {
        try (NetworkNamespace multiHost = NetworkNamespace.createWithoutIpv6("lmvr-" + id);
                TapPort multi = TapPort.open("lmvr" + id, 2)) {
            String name = multi.interfaceName();
            multiHost.adoptAsHost(name, hostAddress + "/24");
            multiHost.exec("ip", "neighbour", "replace", guestAddress, "lladdr", GUEST_MAC.toString(), "dev", name,
                    "nud", "permanent");
            multi.negotiated(NO_GUEST_OFFLOADS, VirtioNetHeader.SIZE);
            try (GuestSide first = new GuestSide(arena, multi.queue(0), VirtioNetHeader.SIZE, RX_CAPACITY);
                    GuestSide second = new GuestSide(arena, multi.queue(1), VirtioNetHeader.SIZE, RX_CAPACITY)) {
                GuestSide[] pairs = {first, second};
                multi.receivingPairs(1);
                assertFalse(multi.receives(1));
                assertArrayEquals(new int[] {FLOWS, 0}, datagramsPerQueue(multiHost, pairs),
                        "with pair 1's queue detached every flow comes to pair 0");

                multi.receivingPairs(2);
                assertTrue(multi.receives(1));
                int[] spread = datagramsPerQueue(multiHost, pairs);
                assertEquals(FLOWS, spread[0] + spread[1]);
                assertTrue(spread[1] > 0, "attached again, pair 1 gets some of " + FLOWS + " flows: " + spread[1]);
            }
        }
    }

    /**
     * Sends {@link #FLOWS} datagrams from the host, each from a socket of its own (a flow of its
     * own, its own hash), and counts where they arrive.
     */
    private int[] datagramsPerQueue(NetworkNamespace multiHost, GuestSide[] pairs) throws Exception {
        multiHost.exec("bash", "-c", "for i in $(seq " + FLOWS + "); do printf flow > /dev/udp/" + guestAddress + "/"
                + GUEST_UDP_PORT + "; done");
        int[] counts = new int[pairs.length];
        long deadline = System.nanoTime() + GuestSide.RECEIVE_TIMEOUT_MILLIS * 1_000_000;
        while (counts[0] + counts[1] < FLOWS && System.nanoTime() < deadline) {
            for (int queue = 0; queue < pairs.length; queue++) {
                while (pairs[queue].hasNow(TapPortTest::isUdpToTheGuest)) {
                    counts[queue]++;
                }
            }
            Thread.sleep(1);
        }
        return counts;
    }

    /** The queue an echo reply arrived on, waiting for it up to the receive timeout. */
    private static int replyQueue(GuestSide[] pairs) throws Exception {
        long deadline = System.nanoTime() + GuestSide.RECEIVE_TIMEOUT_MILLIS * 1_000_000;
        while (System.nanoTime() < deadline) {
            for (int queue = 0; queue < pairs.length; queue++) {
                if (pairs[queue].hasNow(TapPortTest::isEchoReply)) {
                    return queue;
                }
            }
            Thread.sleep(1);
        }
        throw new AssertionError("no echo reply on any queue within " + GuestSide.RECEIVE_TIMEOUT_MILLIS + " ms");
    }

    @Test
    void closingThePortTakesTheTapOutOfTheHostsNamespace() throws Exception {
        port.close();

        assertFalse(host.exec("ip", "-o", "link", "show").contains(tap + ":"));
        port.close(); // closes once
    }
}
