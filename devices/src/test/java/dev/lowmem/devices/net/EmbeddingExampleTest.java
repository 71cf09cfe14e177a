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
import dev.lowmem.virtio.mmio.VirtioMmio;
import dev.lowmem.vmm.core.event.Epoll;
import dev.lowmem.vmm.core.event.EpollEvents;
import dev.lowmem.vmm.core.event.EventFd;
import dev.lowmem.vmm.core.memory.GuestMemory;
import dev.lowmem.vmm.core.memory.MappedRegion;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.LibC;
import java.lang.foreign.Arena;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * The example of docs/EMBEDDING.md, kept here so that it compiles and runs: a VMM embeds the
 * device on a TAP, with guest memory it allocated, an eventfd for the interrupt (KVM's irqfd
 * takes one) and a thread of its own for the datapath; a guest driver brings it up over the
 * virtio-mmio registers in Linux's order and pings the host, whose end of the TAP is in a
 * network namespace of the test's.
 */
class EmbeddingExampleTest {
    /** Where the VMM put guest RAM, and how much. */
    private static final long RAM_GPA = 0x8000_0000L;
    private static final long RAM_SIZE = 16L << 20;
    private static final int WAIT_MS = 5000;

    private final String id = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
    private final String subnet = NetworkNamespace.randomSubnet();

    @Test
    void aGuestPingsTheHostThroughTheEmbeddedDevice() throws Exception {
        try (NetworkNamespace host = NetworkNamespace.createWithoutIpv6("lmem-" + id);
                Arena ram = Arena.ofShared();
                // Guest RAM however the VMM mapped it: the device sees it through a GuestMemory.
                GuestMemory memory = GuestMemory.of(List.of(new MappedRegion(RAM_GPA, ram.allocate(RAM_SIZE, 4096))));
                // The device on a TAP, with its control queue, its queue pair run by the VMM's thread below.
                VirtioNet net = VirtioNet.withControlQueue(NetDeviceOptions.defaults(), tap(host),
                        VirtioNet.Datapath.CALLER);
                // The device's interrupt line: an eventfd for irqfd here; a routine that injects the IRQ does too.
                EventFd irq = EventFd.create();
                // The register file the VMM's MMIO exit handler calls for [base, base + WINDOW_SIZE).
                VirtioMmio mmio = new VirtioMmio(net, VirtioNet.DEVICE_ID, memory, irq);
                DatapathThread datapath = DatapathThread.start(net, mmio)) {

            // The guest: its driver finds the device and pings the host.
            MmioNetDriver guest = new MmioNetDriver(mmio, memory, RAM_GPA);
            guest.bringUp(MmioNetDriver.linuxFeatures());
            guest.postRx(64, 2048);
            try (GuestInterrupts interrupts = new GuestInterrupts(irq)) {
                byte[] guestMac = guest.mac();
                byte[] guestIp = InetAddress.getByName(subnet + ".2").getAddress();
                byte[] hostIp = InetAddress.getByName(subnet + ".1").getAddress();
                guest.send(guest.plainHeader(), bytes(arpRequest(guestMac, guestIp, hostIp)));
                ByteBuffer arpReply = interrupts.receive(guest, frame -> frame.getShort(ETHER_TYPE) == TYPE_ARP
                        && frame.getShort(ARP_OPERATION) == ARP_REPLY);

                byte[] payload = "lowmem-vnet embedded: a ping over virtio-mmio".getBytes(StandardCharsets.US_ASCII);
                Endpoints endpoints = new Endpoints(guestMac, guestIp, bytes(arpReply, SOURCE_MAC, 6), hostIp);
                for (int sequence = 1; sequence <= 3; sequence++) {
                    guest.send(guest.plainHeader(), bytes(icmpEchoRequest(endpoints, 0x4c4d, sequence, payload)));
                    ByteBuffer reply = interrupts.receive(guest, frame -> frame.getShort(ETHER_TYPE) == TYPE_IPV4
                            && frame.get(IP_PROTOCOL) == PROTOCOL_ICMP && frame.get(ICMP_TYPE) == ICMP_ECHO_REPLY);
                    assertEquals(sequence, reply.getShort(ICMP_ECHO_SEQUENCE));
                    assertArrayEquals(payload, bytes(reply, reply.limit() - payload.length, payload.length));
                }
            }
            assertEquals(4, net.pair(0).counters().get(NetCounter.TX_FRAMES));
            assertTrue(net.pair(0).counters().get(NetCounter.RX_FRAMES) >= 4);
            assertEquals(0, net.pair(0).counters().drops());
        }
    }

    /** A TAP whose host end is in {@code host}, at .1 of the test's subnet. */
    private TapPort tap(NetworkNamespace host) throws Exception {
        TapPort tap = TapPort.open("lmem" + id, 1);
        try {
            host.adoptAsHost(tap.interfaceName(), subnet + ".1/24");
        } catch (Exception e) {
            tap.close();
            throw e;
        }
        return tap;
    }

    /**
     * The VMM's own datapath thread for the device's one queue pair: it runs the pair while there
     * is work, then sleeps in epoll on the queues' kick eventfds (what QueueNotify signals) and on
     * the port's fd, for what {@link QueuePair#portInterest()} says the pair waits for. The order before
     * sleeping matters: {@link QueuePair#prepareToSleep()} asks the guest for kicks and looks
     * once more, for a chain posted before the guest saw the request brings no kick.
     */
    static final class DatapathThread implements AutoCloseable {
        private static final long STOP = -1;
        private static final long PORT = -2;

        private final VirtioNet net;
        private final Arena arena = Arena.ofShared();
        private final Epoll epoll;
        private final EventFd stop;
        private final FileDescriptor portFd;
        private final Thread thread;
        private volatile boolean running = true;
        private volatile Throwable failure;

        private DatapathThread(VirtioNet net, VirtioMmio mmio) throws Exception {
            this.net = net;
            this.portFd = net.pair(0).port().fd();
            epoll = Epoll.create();
            stop = EventFd.create();
            epoll.add(stop.fd(), LibC.EPOLLIN, STOP);
            // Every queue's kick: the pair's, and the control queue's, which pair 0 serves.
            for (int queue = 0; queue < net.maxQueues(); queue++) {
                epoll.add(mmio.kick(queue).fd(), LibC.EPOLLIN, queue);
            }
            epoll.add(portFd, 0, PORT);
            thread = Thread.ofPlatform().name("vmm-net-datapath").start(this::run);
        }

        static DatapathThread start(VirtioNet net, VirtioMmio mmio) throws Exception {
            return new DatapathThread(net, mmio);
        }

        private void run() {
            QueuePair pair = net.pair(0);
            EpollEvents ready = new EpollEvents(arena, 4);
            try {
                while (running) {
                    if (net.doWork(0) > 0 || pair.prepareToSleep()) {
                        continue;
                    }
                    epoll.modify(portFd, pair.portInterest(), PORT);
                    // The kicks that woke it are consumed by the next doWork.
                    epoll.wait(ready, -1);
                }
            } catch (Throwable e) {
                failure = e;
            }
        }

        @Override
        public void close() throws Exception {
            running = false;
            stop.signal();
            thread.join();
            epoll.close();
            stop.close();
            arena.close();
            if (failure != null) {
                throw new AssertionError("the datapath thread failed", failure);
            }
        }
    }

    /** The guest's side of the interrupt line: waits on the irq eventfd, then acknowledges as vm_interrupt does. */
    private static final class GuestInterrupts implements AutoCloseable {
        private final EventFd irq;
        private final Arena arena = Arena.ofConfined();
        private final Epoll epoll;
        private final EpollEvents ready = new EpollEvents(arena, 1);

        GuestInterrupts(EventFd irq) throws Exception {
            this.irq = irq;
            epoll = Epoll.create();
            epoll.add(irq.fd(), LibC.EPOLLIN, 0);
        }

        /** The next received frame {@code wanted} accepts (others skipped, 16 at most), each buffer posted again. */
        ByteBuffer receive(MmioNetDriver guest, Predicate<ByteBuffer> wanted) throws Exception {
            for (int skipped = 0; skipped < 16; ) {
                MmioNetDriver.Received frame = guest.receive();
                if (frame == null) {
                    if (!guest.enableInterrupts(MmioNetDriver.RX)) {
                        assertTrue(epoll.wait(ready, WAIT_MS) > 0, "an interrupt within " + WAIT_MS + " ms");
                        irq.read();
                        guest.takeInterrupt();
                    }
                    continue;
                }
                guest.postRx(1, 2048);
                ByteBuffer packet = ByteBuffer.wrap(frame.packet());
                if (wanted.test(packet)) {
                    return packet;
                }
                skipped++;
            }
            throw new AssertionError("16 frames came, none the one expected");
        }

        @Override
        public void close() {
            epoll.close();
            arena.close();
        }
    }
}
