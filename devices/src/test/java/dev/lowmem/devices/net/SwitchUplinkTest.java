package dev.lowmem.devices.net;

import static dev.lowmem.devices.port.EthernetFrames.ARP_OPERATION;
import static dev.lowmem.devices.port.EthernetFrames.ARP_REPLY;
import static dev.lowmem.devices.port.EthernetFrames.ARP_REQUEST;
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

import dev.lowmem.devices.port.EthernetFrames.Endpoints;
import dev.lowmem.devices.port.NetworkNamespace;
import dev.lowmem.devices.port.TapPort;
import dev.lowmem.devices.port.sw.SwitchCounter;
import dev.lowmem.devices.port.sw.Uplink;
import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two guests on a switch whose third port is a TAP, its host side in a network namespace the test
 * makes: a guest pings the host through the switch and the uplink, and the other guest sees the
 * guest's ARP broadcast, flooded, and none of the unicast.
 */
class SwitchUplinkTest {
    private static final long LINUX = Features.of(Feature.VERSION_1, Feature.RING_EVENT_IDX,
            Feature.RING_INDIRECT_DESC, Feature.NET_MRG_RXBUF);

    @TempDir
    Path dir;

    @Test
    void aGuestPingsTheHostThroughTheSwitchsUplink() throws Exception {
        String id = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
        String subnet = NetworkNamespace.randomSubnet();
        try (NetworkNamespace host = NetworkNamespace.createWithoutIpv6("lmsw-" + id);
                SwitchRig rig = new SwitchRig(dir, 2)) {
            TapPort tap = TapPort.open("lmsw" + id, 1);
            String tapName = tap.interfaceName();
            Uplink uplink = rig.addUplink(tap);
            host.adoptAsHost(tapName, subnet + ".1/24");
            try (NetDriver guest = NetDriver.connect(rig.socket(0), LINUX);
                    NetDriver other = NetDriver.connect(rig.socket(1), LINUX)) {
                guest.postRx(128, 1536);
                other.postRx(128, 1536);
                byte[] guestMac = new MacAddress(SwitchRig.FIRST_MAC).bytes();
                byte[] guestIp = InetAddress.getByName(subnet + ".2").getAddress();
                byte[] hostIp = InetAddress.getByName(subnet + ".1").getAddress();

                byte[] request = bytes(arpRequest(guestMac, guestIp, hostIp));
                guest.send(guest.plainHeader(), request);
                ByteBuffer arpReply = guest.receiveMatching(frame -> frame.getShort(ETHER_TYPE) == TYPE_ARP
                        && frame.getShort(ARP_OPERATION) == ARP_REPLY);
                byte[] hostMac = bytes(arpReply, SOURCE_MAC, 6);
                assertArrayEquals(request, other.receiveMatching(frame -> frame.getShort(ETHER_TYPE) == TYPE_ARP
                        && frame.getShort(ARP_OPERATION) == ARP_REQUEST).array(), "the broadcast, flooded");

                byte[] payload = "lowmem-vnet: a ping through the switch".getBytes(StandardCharsets.US_ASCII);
                Endpoints endpoints = new Endpoints(guestMac, guestIp, hostMac, hostIp);
                for (int sequence = 1; sequence <= 3; sequence++) {
                    guest.send(guest.plainHeader(), bytes(icmpEchoRequest(endpoints, 0x4242, sequence, payload)));
                    ByteBuffer reply = guest.receiveMatching(frame -> frame.getShort(ETHER_TYPE) == TYPE_IPV4
                            && frame.get(IP_PROTOCOL) == PROTOCOL_ICMP && frame.get(ICMP_TYPE) == ICMP_ECHO_REPLY);
                    assertEquals(sequence, reply.getShort(ICMP_ECHO_SEQUENCE));
                    assertArrayEquals(payload, bytes(reply, reply.limit() - payload.length, payload.length));
                }
                assertEquals(-1, other.takeUsedRx(100), "the unicast went to the host alone");
                assertEquals(4, uplink.member().counters().get(SwitchCounter.FRAMES_OUT), "the guest's 4 frames");
                assertEquals(0, uplink.member().counters().drops() + rig.counters(0).drops() + rig.counters(1).drops());
            }
        }
    }

    @Test
    void theUplinkHandsOverSegmentsWhenEveryGuestTakesThem() throws Exception {
        String id = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
        long takesSegments = LINUX | Features.of(Feature.NET_GUEST_CSUM, Feature.NET_GUEST_TSO4, Feature.NET_GUEST_TSO6);
        try (NetworkNamespace host = NetworkNamespace.createWithoutIpv6("lmsw-" + id);
                SwitchRig rig = new SwitchRig(dir, 2)) {
            TapPort tap = TapPort.open("lmsw" + id, 1);
            String tapName = tap.interfaceName();
            rig.addUplink(tap);
            host.adoptAsHost(tapName, NetworkNamespace.randomSubnet() + ".1/24");
            try (NetDriver segments = NetDriver.connect(rig.socket(0), takesSegments)) {
                try (NetDriver frames = NetDriver.connect(rig.socket(1), LINUX)) {
                    assertEquals("off", segmentation(host, tapName), "one guest takes no segments");
                }
                try (NetDriver alsoSegments = NetDriver.connect(rig.socket(1), takesSegments)) {
                    assertEquals("on", segmentation(host, tapName), "both guests take segments");
                }
            }
        }
    }

    /** The TAP's tcp-segmentation-offload as ethtool reads it: whether the kernel hands over 64 KiB segments. */
    private static String segmentation(NetworkNamespace host, String tap) throws Exception {
        String features = host.exec("ethtool", "-k", tap);
        return features.lines().filter(line -> line.startsWith("tcp-segmentation-offload:")).findFirst()
                .orElseThrow(() -> new AssertionError("no tcp-segmentation-offload line in: " + features))
                .split(":\\s+")[1].split("\\s")[0];
    }
}
