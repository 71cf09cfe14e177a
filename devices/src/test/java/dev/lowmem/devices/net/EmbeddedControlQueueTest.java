package dev.lowmem.devices.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowmem.devices.port.LoopbackPort;
import dev.lowmem.devices.port.TapPort;
import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.Features;
import dev.lowmem.virtio.queue.DriverChain;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The control queue of the embedded device (virtio 1.2, 5.1.6.5), in one thread on a loopback,
 * which hands the guest back whatever destination it sends to: each command's ack, and for each
 * filter a frame that passes and one that is turned away (counted, nothing written into the
 * guest's buffers, which stay for the next frame).
 */
class EmbeddedControlQueueTest {
    private static final long FEATURES = Features.of(Feature.VERSION_1, Feature.NET_MRG_RXBUF, Feature.RING_EVENT_IDX,
            Feature.NET_CTRL_VQ, Feature.NET_CTRL_RX, Feature.NET_CTRL_RX_EXTRA, Feature.NET_CTRL_VLAN,
            Feature.NET_CTRL_MAC_ADDR);
    private static final byte[] OURS = NetDeviceOptions.DEFAULT_MAC.bytes();
    private static final byte[] OTHER = {0x52, 0x54, 0, 0x12, 0x34, 0x57};
    private static final byte[] BROADCAST = {-1, -1, -1, -1, -1, -1};
    private static final byte[] MULTICAST = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
    private static final byte[] OTHER_MULTICAST = {0x33, 0x33, 0, 0, 0, 1};
    private static final byte ON = 1;
    private static final byte OFF = 0;

    private EmbeddedNetRig rig;
    private MmioNetDriver driver;

    private void start(long features) throws Exception {
        rig = new EmbeddedNetRig(new LoopbackPort(1), features);
        driver = rig.driver;
        driver.postRx(16, 2048);
    }

    @AfterEach
    void close() {
        if (rig != null) {
            rig.close();
        }
    }

    @Test
    void theDeviceOffersTheControlQueueAndItsCommands() throws Exception {
        start(FEATURES);
        assertEquals(FEATURES, rig.device.negotiatedFeatures());
        assertEquals(3, rig.device.maxQueues());
    }

    @Test
    void untilTheDriverSaysOtherwiseEveryFramePasses() throws Exception {
        start(FEATURES);
        assertPasses(OTHER);
        assertPasses(MULTICAST);
    }

    @Test
    void promiscuousOffTakesOurAddressAndBroadcastOnly() throws Exception {
        start(FEATURES);
        rxMode(RxFilter.PROMISC, OFF);
        assertPasses(OURS);
        assertPasses(BROADCAST);
        assertFiltered(OTHER);
        assertFiltered(MULTICAST);
    }

    @Test
    void theMacTablePassesTheAddressesItLists() throws Exception {
        start(FEATURES);
        rxMode(RxFilter.PROMISC, OFF);
        assertEquals(NetControl.OK, command(NetControl.CLASS_MAC, NetControl.MAC_TABLE_SET,
                macTables(new byte[][] {OTHER}, new byte[][] {MULTICAST})));
        assertPasses(OTHER);
        assertPasses(MULTICAST);
        assertFiltered(OTHER_MULTICAST);
        assertPasses(OURS);
    }

    @Test
    void aMacTableLongerThanTheDeviceKeepsPassesItsWholeKind() throws Exception {
        start(FEATURES);
        rxMode(RxFilter.PROMISC, OFF);
        byte[][] many = new byte[RxFilter.MAC_TABLE_ENTRIES + 1][];
        java.util.Arrays.fill(many, MULTICAST);
        assertEquals(NetControl.OK, command(NetControl.CLASS_MAC, NetControl.MAC_TABLE_SET,
                macTables(new byte[0][], many)));
        assertPasses(OTHER_MULTICAST);
        assertFiltered(OTHER);
    }

    @Test
    void allMulticastAndAllUnicast() throws Exception {
        start(FEATURES);
        rxMode(RxFilter.PROMISC, OFF);
        rxMode(RxFilter.ALLMULTI, ON);
        assertPasses(MULTICAST);
        assertFiltered(OTHER);
        rxMode(RxFilter.ALLUNI, ON);
        assertPasses(OTHER);
        rxMode(RxFilter.ALLMULTI, OFF);
        assertFiltered(MULTICAST);
    }

    @Test
    void noMulticastNoUnicastNoBroadcast() throws Exception {
        start(FEATURES);
        rxMode(RxFilter.PROMISC, OFF);
        rxMode(RxFilter.ALLMULTI, ON);
        rxMode(RxFilter.NOMULTI, ON);
        assertFiltered(MULTICAST);
        rxMode(RxFilter.NOUNI, ON);
        assertFiltered(OURS);
        rxMode(RxFilter.NOBCAST, ON);
        assertFiltered(BROADCAST);
        rxMode(RxFilter.NOBCAST, OFF);
        assertPasses(BROADCAST);
    }

    @Test
    void promiscuousPassesWhatTheOtherModesTurnAway() throws Exception {
        start(FEATURES);
        rxMode(RxFilter.NOUNI, ON);
        rxMode(RxFilter.NOBCAST, ON);
        assertPasses(OURS);
        assertPasses(BROADCAST);
    }

    @Test
    void aNewMacTakesOverFromTheOldOne() throws Exception {
        start(FEATURES);
        rxMode(RxFilter.PROMISC, OFF);
        assertEquals(NetControl.OK, command(NetControl.CLASS_MAC, NetControl.MAC_ADDR_SET, OTHER));
        assertArrayEquals(OTHER, driver.mac(), "the config space says the new address");
        assertPasses(OTHER);
        assertFiltered(OURS);
    }

    @Test
    void theVlanFilterPassesTheIdsAddedOnly() throws Exception {
        start(FEATURES);
        rxMode(RxFilter.PROMISC, OFF);
        assertFilteredFrame(tagged(OURS, 5));
        assertEquals(NetControl.OK, command(NetControl.CLASS_VLAN, NetControl.VLAN_ADD, le16(5)));
        assertPassesFrame(tagged(OURS, 5));
        assertFilteredFrame(tagged(OURS, 6));
        assertPasses(OURS);
        assertEquals(NetControl.OK, command(NetControl.CLASS_VLAN, NetControl.VLAN_DEL, le16(5)));
        assertFilteredFrame(tagged(OURS, 5));
    }

    @Test
    void aResetForgetsTheFilter() throws Exception {
        start(FEATURES);
        rxMode(RxFilter.PROMISC, OFF);
        MmioNetDriver next = new MmioNetDriver(rig.mmio, driver.memory(), EmbeddedNetRig.RAM_GPA);
        next.bringUp(FEATURES);
        driver = next;
        driver.postRx(4, 2048);
        assertPasses(OTHER);
    }

    @Test
    void commandsTheDeviceCannotCarryOutAreRefused() throws Exception {
        start(FEATURES & ~Feature.NET_CTRL_RX_EXTRA.mask() & ~Feature.NET_CTRL_VLAN.mask());
        assertEquals(NetControl.ERR, command(NetControl.CLASS_RX, RxFilter.NOBCAST, new byte[] {ON}),
                "RX_EXTRA not negotiated");
        assertEquals(NetControl.ERR, command(NetControl.CLASS_VLAN, NetControl.VLAN_ADD, le16(5)),
                "CTRL_VLAN not negotiated");
        assertEquals(NetControl.ERR, command(NetControl.CLASS_RX, RxFilter.PROMISC, new byte[] {ON, ON}),
                "two bytes for a flag");
        assertEquals(NetControl.ERR, command(NetControl.CLASS_MAC, NetControl.MAC_TABLE_SET,
                new byte[] {3, 0, 0, 0, 1, 2, 3}), "a table that claims more than it holds");
        assertEquals(NetControl.ERR, command(NetControl.CLASS_MQ, NetControl.MQ_VQ_PAIRS_SET, le16(1)),
                "MQ not negotiated");
        assertEquals(NetControl.ERR, command(9, 0, new byte[0]), "an unknown class");
        assertEquals(6, rig.counters().get(NetCounter.CTRL_ERRORS));
        assertEquals(0, rig.counters().get(NetCounter.CTRL_COMMANDS));
        assertPasses(OTHER);
    }

    @Test
    void aCommandWithNoRoomForItsAckComesBackEmpty() throws Exception {
        start(FEATURES);
        driver.postRaw(driver.controlQueue(), new DriverChain(1).readable(EmbeddedNetRig.RAM_GPA, 3));
        rig.runDevice();
        driver.takeUsed(driver.controlQueue());
        assertEquals(0, driver.usedLength(driver.controlQueue()));
        assertEquals(1, rig.counters().get(NetCounter.CTRL_ERRORS));
    }

    /**
     * Two pairs: the second receives nothing until the driver sets two pairs (after a reset only
     * the first does, 5.1.6.5.5); the loopback holds its frame meanwhile, and hands it over then.
     */
    @Test
    void onlyThePairsTheDriverSetReceive() throws Exception {
        rig = new EmbeddedNetRig(new LoopbackPort(2), NetDeviceOptions.defaults().withQueuePairs(2),
                FEATURES | Feature.NET_MQ.mask());
        driver = rig.driver;
        assertEquals(4, driver.controlQueue(), "the control queue after both pairs");
        driver.postRx(1, 4, 2048);
        byte[] frame = frame(OURS);
        driver.send(1, driver.plainHeader(), frame);
        rig.runDevice(1);
        assertNull(driver.receive(1), "pair 1 receives nothing before MQ_VQ_PAIRS_SET");
        assertEquals(1, rig.device.pair(1).backlog());

        assertEquals(NetControl.ERR, command(NetControl.CLASS_MQ, NetControl.MQ_VQ_PAIRS_SET, le16(3)));
        assertEquals(NetControl.ERR, command(NetControl.CLASS_MQ, NetControl.MQ_VQ_PAIRS_SET, le16(0)));
        assertEquals(NetControl.OK, command(NetControl.CLASS_MQ, NetControl.MQ_VQ_PAIRS_SET, le16(2)));
        rig.runDevice(1);
        assertArrayEquals(frame, driver.receive(1).packet(), "pair 1 receives once two pairs are set");
    }

    /**
     * On a multi-queue TAP the pairs that do not receive have their TAP queues detached, so the
     * kernel steers none of the host's flows to a queue RX holds back (TapPortTest shows the
     * steering); the driver's MQ_VQ_PAIRS_SET attaches them. After a reset no RX queue runs, and
     * pair 0's TAP queue alone takes the host's frames.
     */
    @Test
    void aMultiQueueTapGetsTheHostsFramesOnlyToThePairsThatReceive() throws Exception {
        TapPort tap = TapPort.open("lmvc" + Integer.toHexString(ThreadLocalRandom.current().nextInt()), 2);
        rig = new EmbeddedNetRig(tap, NetDeviceOptions.defaults().withQueuePairs(2), FEATURES | Feature.NET_MQ.mask());
        driver = rig.driver;
        assertFalse(tap.receives(1), "after negotiation the first pair alone receives");

        assertEquals(NetControl.OK, command(NetControl.CLASS_MQ, NetControl.MQ_VQ_PAIRS_SET, le16(2)));
        assertTrue(tap.receives(1));
        assertEquals(NetControl.OK, command(NetControl.CLASS_MQ, NetControl.MQ_VQ_PAIRS_SET, le16(1)));
        assertFalse(tap.receives(1));

        driver.reset();
        assertTrue(tap.receives(0));
        assertFalse(tap.receives(1), "pair 1's RX queue stopped with the reset");
    }

    // ---- helpers ----

    private void rxMode(int mode, byte on) {
        assertEquals(NetControl.OK, command(NetControl.CLASS_RX, mode, new byte[] {on}), "RX mode " + mode);
    }

    private int command(int commandClass, int code, byte[] data) {
        driver.command(commandClass, code, data);
        rig.runDevice();
        return driver.ack(data.length);
    }

    private void assertPasses(byte[] destination) {
        assertPassesFrame(frame(destination));
    }

    private void assertFiltered(byte[] destination) {
        assertFilteredFrame(frame(destination));
    }

    private void assertPassesFrame(byte[] frame) {
        long filtered = rig.counters().get(NetCounter.RX_FILTERED);
        driver.send(driver.plainHeader(), frame);
        rig.runDevice();
        MmioNetDriver.Received received = driver.receive();
        assertNotNull(received, "the frame passed");
        assertArrayEquals(frame, received.packet());
        assertEquals(filtered, rig.counters().get(NetCounter.RX_FILTERED));
        driver.postRx(1, 2048);
    }

    private void assertFilteredFrame(byte[] frame) {
        long filtered = rig.counters().get(NetCounter.RX_FILTERED);
        driver.send(driver.plainHeader(), frame);
        rig.runDevice();
        assertNull(driver.receive(), "the frame was turned away");
        assertEquals(filtered + 1, rig.counters().get(NetCounter.RX_FILTERED));
    }

    private static byte[] frame(byte[] destination) {
        ByteBuffer frame = ByteBuffer.allocate(60);
        frame.put(destination).put(OURS).putShort((short) 0x88b5);
        return frame.array();
    }

    private static byte[] tagged(byte[] destination, int vlan) {
        ByteBuffer frame = ByteBuffer.allocate(64);
        frame.put(destination).put(OURS).putShort((short) 0x8100).putShort((short) vlan).putShort((short) 0x88b5);
        return frame.array();
    }

    private static byte[] le16(int value) {
        return ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) value).array();
    }

    private static byte[] macTables(byte[][] unicast, byte[][] multicast) {
        ByteBuffer data = ByteBuffer.allocate(8 + 6 * (unicast.length + multicast.length)).order(ByteOrder.LITTLE_ENDIAN);
        data.putInt(unicast.length);
        for (byte[] mac : unicast) {
            data.put(mac);
        }
        data.putInt(multicast.length);
        for (byte[] mac : multicast) {
            data.put(mac);
        }
        return data.array();
    }
}
