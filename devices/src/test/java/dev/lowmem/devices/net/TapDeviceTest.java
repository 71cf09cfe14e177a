package dev.lowmem.devices.net;

import static dev.lowmem.devices.port.EthernetFrames.ARP_OPERATION;
import static dev.lowmem.devices.port.EthernetFrames.ARP_REPLY;
import static dev.lowmem.devices.port.EthernetFrames.ETHER_TYPE;
import static dev.lowmem.devices.port.EthernetFrames.ICMP_ECHO_REPLY;
import static dev.lowmem.devices.port.EthernetFrames.ICMP_ECHO_SEQUENCE;
import static dev.lowmem.devices.port.EthernetFrames.ICMP_TYPE;
import static dev.lowmem.devices.port.EthernetFrames.IP_PROTOCOL;
import static dev.lowmem.devices.port.EthernetFrames.PROTOCOL_ICMP;
import static dev.lowmem.devices.port.EthernetFrames.SOURCE_MAC;
import static dev.lowmem.devices.port.EthernetFrames.TYPE_ARP;
import static dev.lowmem.devices.port.EthernetFrames.TYPE_IPV4;
import static dev.lowmem.devices.port.EthernetFrames.arpRequest;
import static dev.lowmem.devices.port.EthernetFrames.bytes;
import static dev.lowmem.devices.port.EthernetFrames.icmpEchoRequest;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.devices.port.EthernetFrames.Endpoints;
import dev.lowmem.devices.port.NetworkNamespace;
import dev.lowmem.devices.port.TapPort;
import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import dev.lowmem.virtio.vhostuser.ProtocolFeature;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The whole path a guest's ping takes: our front-end as the guest's driver, the device over a
 * vhost-user socket, a TAP whose host side sits in a network namespace made by the test, and the
 * kernel there answering ARP and ICMP. Run with the offloads a Linux guest takes, for each ring
 * layout and with and without mergeable buffers.
 */
class TapDeviceTest {
    private final String id = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
    private final String subnet = NetworkNamespace.randomSubnet();

    @TempDir
    Path dir;
    private NetworkNamespace host;
    private NetBackend backend;
    private String tap;

    @BeforeEach
    void tapInItsOwnNamespace() throws Exception {
        host = NetworkNamespace.createWithoutIpv6("lmvd-" + id);
        TapPort port = TapPort.open("lmvd" + id, 1);
        tap = port.interfaceName();
        backend = new NetBackend(dir, port);
        host.adoptAsHost(tap, subnet + ".1/24");
    }

    @AfterEach
    void closeAll() throws Exception {
        try {
            if (backend != null) {
                backend.close();
            }
        } finally {
            host.close();
        }
    }

    static Stream<Arguments> linuxGuests() {
        long linux = Features.of(Feature.VERSION_1, Feature.RING_EVENT_IDX, Feature.RING_INDIRECT_DESC,
                Feature.NET_CSUM, Feature.NET_GUEST_CSUM, Feature.NET_HOST_TSO4, Feature.NET_GUEST_TSO4,
                Feature.NET_HOST_TSO6, Feature.NET_GUEST_TSO6);
        return Stream.of(linux | Feature.NET_MRG_RXBUF.mask(), linux,
                        linux | Feature.NET_MRG_RXBUF.mask() | Feature.RING_PACKED.mask())
                .map(features -> Arguments.of(Features.describe(features), features));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("linuxGuests")
    void theGuestPingsTheHostThroughTheTap(String name, long features) throws Exception {
        try (NetDriver driver = NetDriver.connect(backend.socket, features)) {
            driver.postRx(Feature.NET_MRG_RXBUF.in(features) ? 128 : 4,
                    Feature.NET_MRG_RXBUF.in(features) ? 1536 : 70_000);
            byte[] guestMac = NetDeviceOptions.DEFAULT_MAC.bytes();
            byte[] guestIp = InetAddress.getByName(subnet + ".2").getAddress();
            byte[] hostIp = InetAddress.getByName(subnet + ".1").getAddress();

            driver.send(driver.plainHeader(), bytes(arpRequest(guestMac, guestIp, hostIp)));
            ByteBuffer arpReply = driver.receiveMatching(frame -> frame.getShort(ETHER_TYPE) == TYPE_ARP
                    && frame.getShort(ARP_OPERATION) == ARP_REPLY);
            byte[] hostMac = bytes(arpReply, SOURCE_MAC, 6);

            byte[] payload = "lowmem-vnet: a ping through the whole device".getBytes(StandardCharsets.US_ASCII);
            Endpoints endpoints = new Endpoints(guestMac, guestIp, hostMac, hostIp);
            for (int sequence = 1; sequence <= 3; sequence++) {
                driver.send(driver.plainHeader(), bytes(icmpEchoRequest(endpoints, 0x4242, sequence, payload)));
                ByteBuffer reply = driver.receiveMatching(frame -> frame.getShort(ETHER_TYPE) == TYPE_IPV4
                        && frame.get(IP_PROTOCOL) == PROTOCOL_ICMP && frame.get(ICMP_TYPE) == ICMP_ECHO_REPLY);
                assertEquals(sequence, reply.getShort(ICMP_ECHO_SEQUENCE));
                assertArrayEquals(payload, bytes(reply, reply.limit() - payload.length, payload.length));
            }
            QueuePairCounters counters = backend.counters();
            assertEquals(4, counters.get(NetCounter.TX_FRAMES));
            assertEquals(0, counters.drops());
        }
    }

    /**
     * SEND_RARP over the socket, as QEMU sends it on the destination of a migration: the device
     * writes QEMU's RARP announcement of the guest's MAC to the TAP, and a raw packet socket on
     * the TAP's host end, in the test's namespace, captures it byte for byte.
     */
    @org.junit.jupiter.api.Test
    void sendRarpAnnouncesTheGuestOnTheTap() throws Exception {
        long features = Features.of(Feature.VERSION_1, Feature.NET_MRG_RXBUF, Feature.RING_EVENT_IDX);
        String capture = "import socket,sys\n"
                + "s=socket.socket(socket.AF_PACKET,socket.SOCK_RAW,socket.htons(0x8035))\n"
                + "s.bind(('" + tap + "',0x8035))\n"
                + "s.settimeout(20)\n"
                + "print('ready',flush=True)\n"
                + "print(s.recv(2048).hex(),flush=True)\n";
        Process capturing = host.start("python3", "-c", capture);
        BufferedReader captured = new BufferedReader(new InputStreamReader(capturing.getInputStream(), StandardCharsets.US_ASCII));
        assertEquals("ready", captured.readLine(), "the capture started");
        try (NetDriver driver = NetDriver.connect(backend.socket, features)) {
            assertTrue(ProtocolFeature.RARP.in(driver.protocolFeatures()), "the back-end offers RARP");
            byte[] mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
            driver.sendRarp(mac);
            String frame = captured.readLine();
            // net/announce.c's frame: broadcast, from the MAC, RARP; Ethernet/IPv4, 6/4, reverse request;
            // sender MAC, IP 0, target MAC, IP 0; zeros to 60 bytes.
            assertEquals("ffffffffffff" + "525400123456" + "8035" + "0001" + "0800" + "06" + "04" + "0003"
                    + "525400123456" + "00000000" + "525400123456" + "00000000" + "00".repeat(18), frame);
            Eventually.holds(() -> backend.counters().get(NetCounter.RARP_SENT) == 1, "the announcement is counted");
            assertEquals(0, backend.counters().drops());
        } finally {
            capturing.destroy();
        }
    }
}
