package dev.lowmem.devices.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.devices.port.LoopbackPort;
import dev.lowmem.devices.port.SinkPort;
import dev.lowmem.devices.port.SourcePort;
import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.FeatureNegotiationException;
import dev.lowmem.virtio.Features;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The device's control-plane face, with no transport: features, config space, options. */
class VirtioNetTest {
    private static final NetDeviceOptions TWO_PAIRS = new NetDeviceOptions(MacAddress.parse("52:54:00:ab:cd:ef"),
            9000, 2, Duration.ZERO);

    @Test
    void offersItsOwnFeaturesThePortsOffloadsAndMultiqueueWithMorePairs() throws Exception {
        try (VirtioNet device = new VirtioNet(TWO_PAIRS, new LoopbackPort(2))) {
            long offered = device.deviceFeatures();
            assertEquals(NetFeatures.DEVICE_OWN, offered & NetFeatures.DEVICE_OWN);
            assertTrue(Feature.NET_GUEST_TSO4.in(offered) && Feature.NET_HOST_TSO6.in(offered));
            assertTrue(Feature.NET_MQ.in(offered));
            assertEquals(4, device.maxQueues());
            // QEMU compares GET_QUEUE_NUM with its netdev's queues=, which counts pairs.
            assertEquals(2, device.queueNumForFrontend());
        }
    }

    @Test
    void aSourceOffersNoOffloadAndOnePairNoMultiqueue() throws Exception {
        try (VirtioNet device = new VirtioNet(NetDeviceOptions.defaults(), new SourcePort(64, 1))) {
            assertEquals(NetFeatures.DEVICE_OWN, device.deviceFeatures());
        }
    }

    @Test
    void offloadsWithoutTheirPrerequisiteAreNotOffered() {
        long tsoWithoutChecksum = Features.of(Feature.NET_HOST_TSO4, Feature.NET_HOST_ECN, Feature.NET_GUEST_CSUM,
                Feature.NET_GUEST_TSO6, Feature.NET_GUEST_ECN, Feature.NET_CTRL_VQ);
        assertEquals(Features.of(Feature.NET_GUEST_CSUM, Feature.NET_GUEST_TSO6, Feature.NET_GUEST_ECN),
                NetFeatures.consistentOffloads(tsoWithoutChecksum));
    }

    @Test
    void refusesFeaturesItDidNotOffer() throws Exception {
        try (VirtioNet device = new VirtioNet(NetDeviceOptions.defaults(), SinkPort.dropping())) {
            assertThrows(FeatureNegotiationException.class,
                    () -> device.acknowledgeFeatures(Feature.NET_CTRL_VQ.mask()));
            device.acknowledgeFeatures(Feature.VERSION_1.mask());
            assertEquals(Feature.VERSION_1.mask(), device.negotiatedFeatures());
            device.reset();
            assertEquals(0, device.negotiatedFeatures());
        }
    }

    @Test
    void theConfigSpaceHoldsMacStatusPairsAndMtuAndOnlyTheMacIsWritable() throws Exception {
        try (VirtioNet device = new VirtioNet(TWO_PAIRS, new LoopbackPort(2))) {
            assertArrayEquals(new byte[] {0x52, 0x54, 0, (byte) 0xab, (byte) 0xcd, (byte) 0xef, 1, 0, 2, 0,
                    (byte) 0x28, 0x23}, device.readConfig(0, 12));
            device.writeConfig(3, new byte[] {1, 2, 3});
            assertArrayEquals(new byte[] {1, 2, 3}, device.readConfig(3, 3));
            assertThrows(IllegalArgumentException.class, () -> device.writeConfig(5, new byte[] {1, 2}));
            assertThrows(IllegalArgumentException.class, () -> device.readConfig(10, 4));
        }
    }

    @Test
    void optionsAreCheckedWithTheValueNamed() {
        IllegalArgumentException mtu = assertThrows(IllegalArgumentException.class,
                () -> new NetDeviceOptions(NetDeviceOptions.DEFAULT_MAC, 67, 1, Duration.ZERO));
        assertTrue(mtu.getMessage().contains("MTU 67"));
        assertThrows(IllegalArgumentException.class, () -> NetDeviceOptions.defaults().withQueuePairs(0));
        assertThrows(IllegalArgumentException.class, () -> MacAddress.parse("01:00:5e:00:00:01"), "multicast");
        assertThrows(IllegalArgumentException.class, () -> MacAddress.parse("52:54:00:12:34"));
        assertEquals("52:54:00:12:34:56", MacAddress.parse("52:54:00:12:34:56").toString());
        IllegalArgumentException pairs = assertThrows(IllegalArgumentException.class,
                () -> new VirtioNet(TWO_PAIRS, new LoopbackPort(1)));
        assertTrue(pairs.getMessage().contains("2 queue pairs asked of loopback"), pairs.getMessage());
    }
}
