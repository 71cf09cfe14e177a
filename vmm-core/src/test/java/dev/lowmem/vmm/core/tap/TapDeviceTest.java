package dev.lowmem.vmm.core.tap;

import dev.lowmem.vmm.core.nativeio.Errno;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.LibC;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import dev.lowmem.vmm.core.testing.ProcSelf;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TAPs opened on this machine's kernel: needs /dev/net/tun and CAP_NET_ADMIN (CI runs as root).
 * Every TAP here is made by the test under a name of its own and goes away as its fds close.
 */
class TapDeviceTest {

    /** "lmt" and 8 random hex digits: no clash with a real interface or a test running alongside. */
    private static String uniqueName() {
        return "lmt" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
    }

    private static boolean interfaceExists(String name) {
        return Files.exists(Path.of("/sys/class/net", name));
    }

    /** The open(2) flags of an fd, as /proc/self/fdinfo shows them. */
    private static int openFlags(FileDescriptor fd) throws Exception {
        String line = Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd.intValue())).stream()
                .filter(l -> l.startsWith("flags:")).findFirst().orElseThrow();
        return Integer.parseInt(line.substring("flags:".length()).trim(), 8);
    }

    @Test
    void aNewTapHasTheNameAskedForAndANonBlockingCloseOnExecFd() throws Exception {
        String name = uniqueName();
        try (TapDevice tap = TapDevice.open(name, 1)) {
            assertEquals(name, tap.name());
            assertEquals(1, tap.queueCount());
            assertTrue(interfaceExists(name), "no /sys/class/net/" + name);
            int flags = openFlags(tap.queue(0));
            assertEquals(LibC.O_NONBLOCK, flags & LibC.O_NONBLOCK);
            assertEquals(LibC.O_CLOEXEC, flags & LibC.O_CLOEXEC);
        }
        assertFalse(interfaceExists(name), "a TAP we created goes away with its last fd");
    }

    @Test
    void theKernelNumbersATapFromAPattern() throws Exception {
        String prefix = uniqueName().substring(0, 9);
        try (TapDevice tap = TapDevice.open(prefix + "%d", 1)) {
            assertTrue(tap.name().matches(prefix + "\\d+"), tap.name());
            assertTrue(interfaceExists(tap.name()));
        }
    }

    @Test
    void theTunFlagsAreTapWithoutPacketInformationWithAVnetHeader() throws Exception {
        String name = uniqueName();
        try (TapDevice single = TapDevice.open(name, 1)) {
            assertEquals(LibC.IFF_TAP | LibC.IFF_NO_PI | LibC.IFF_VNET_HDR, tunFlags(name));
        }
        try (TapDevice multi = TapDevice.open(name, 2)) {
            assertEquals(LibC.IFF_TAP | LibC.IFF_NO_PI | LibC.IFF_VNET_HDR | LibC.IFF_MULTI_QUEUE, tunFlags(name));
        }
    }

    /** /sys/class/net/NAME/tun_flags: the TAP's IFF_ flags, in hex. */
    private static int tunFlags(String name) throws Exception {
        return Integer.decode(Files.readString(Path.of("/sys/class/net", name, "tun_flags")).trim());
    }

    @Test
    void aMultiQueueTapHasAnFdPerQueueAndTakesMoreQueuesLater() throws Exception {
        String name = uniqueName();
        try (TapDevice tap = TapDevice.open(name, 2);
             TapDevice more = TapDevice.open(name, 3)) {
            assertEquals(2, tap.queueCount());
            assertNotSame(tap.queue(0), tap.queue(1));
            assertEquals(name, more.name());
            assertEquals(3, more.queueCount());
            assertThrows(IndexOutOfBoundsException.class, () -> tap.queue(2));
        }
        assertFalse(interfaceExists(name));
    }

    @Test
    void theVnetHeaderSizeIsTheTapsForEveryQueue() throws Exception {
        try (TapDevice tap = TapDevice.open(uniqueName(), 3)) {
            assertEquals(10, tap.vnetHeaderSize(2), "the kernel starts with a legacy virtio_net_hdr");
            tap.setVnetHeaderSize(12);
            for (int i = 0; i < tap.queueCount(); i++) {
                assertEquals(12, tap.vnetHeaderSize(i), "queue " + i);
            }
        }
    }

    @Test
    void aVnetHeaderShorterThanVirtioNetHdrIsRefusedByName() throws Exception {
        String name = uniqueName();
        try (TapDevice tap = TapDevice.open(name, 1)) {
            NativeIoException e = assertThrows(NativeIoException.class, () -> tap.setVnetHeaderSize(8));
            assertEquals(Errno.EINVAL, e.errno());
            assertEquals("TUNSETVNETHDRSZ TAP " + name + ", size 8: EINVAL (Invalid argument)", e.getMessage());
        }
    }

    @Test
    void theProbeFindsChecksumOffloadAndLeavesTheOffloadsAsTheyWere() throws Exception {
        try (TapDevice tap = TapDevice.open(uniqueName(), 1)) {
            tap.setOffloads(EnumSet.of(TunOffload.CSUM, TunOffload.TSO4));
            var accepted = tap.probeOffloads();
            assertTrue(accepted.contains(TunOffload.CSUM), "accepted: " + accepted);
            assertEquals(EnumSet.of(TunOffload.CSUM, TunOffload.TSO4), tap.offloads());
            for (TunOffload offload : accepted) {
                tap.setOffloads(EnumSet.of(TunOffload.CSUM, TunOffload.TSO4, offload)); // each accepted one is settable
            }
        }
    }

    @Test
    void anOffloadWithoutTheOneItNeedsIsRefusedNamingTheOffloads() throws Exception {
        String name = uniqueName();
        try (TapDevice tap = TapDevice.open(name, 1)) {
            NativeIoException e = assertThrows(NativeIoException.class, () -> tap.setOffloads(EnumSet.of(TunOffload.TSO4)));
            assertEquals(Errno.EINVAL, e.errno());
            assertEquals("TUNSETOFFLOAD TAP " + name + ", offloads [TSO4]: EINVAL (Invalid argument)", e.getMessage());
            assertEquals(EnumSet.noneOf(TunOffload.class), tap.offloads(), "a refused set changes nothing");
        }
    }

    @Test
    void aSingleQueueTapOpenedTwiceIsBusy() throws Exception {
        String name = uniqueName();
        try (TapDevice first = TapDevice.open(name, 1)) {
            long fds = ProcSelf.openFdCount();
            NativeIoException e = assertThrows(NativeIoException.class, () -> TapDevice.open(name, 1));
            assertEquals(Errno.EBUSY, e.errno());
            assertEquals("TUNSETIFF " + name + ": EBUSY (Device or resource busy): TAP " + name
                    + " is in use by another process (a TAP created without multi_queue takes one open at a time)",
                    e.getMessage());
            assertEquals(fds, ProcSelf.openFdCount(), "the refused open's fd is closed");
        }
    }

    @Test
    void multiQueueAndSingleQueueOpensOfOneTapAreRefused() throws Exception {
        String single = uniqueName();
        String multi = uniqueName();
        try (TapDevice singleTap = TapDevice.open(single, 1);
             TapDevice multiTap = TapDevice.open(multi, 2)) {
            long fds = ProcSelf.openFdCount();
            NativeIoException e = assertThrows(NativeIoException.class, () -> TapDevice.open(single, 2));
            assertEquals(Errno.EINVAL, e.errno());
            assertTrue(e.getMessage().endsWith("interface " + single
                    + " exists but is not a TAP, or is a TAP without multi_queue while 2 queues were asked for"), e.getMessage());

            e = assertThrows(NativeIoException.class, () -> TapDevice.open(multi, 1));
            assertEquals(Errno.EINVAL, e.errno());
            assertTrue(e.getMessage().endsWith("or is a TAP with multi_queue while 1 queue was asked for"), e.getMessage());
            assertEquals(fds, ProcSelf.openFdCount(), "a refused open closes every fd it opened");
        }
    }

    @Test
    void anInterfaceThatIsNotATapIsRefused() {
        NativeIoException e = assertThrows(NativeIoException.class, () -> TapDevice.open("lo", 1));
        assertEquals(Errno.EINVAL, e.errno());
        assertTrue(e.getMessage().contains("interface lo exists but is not a TAP"), e.getMessage());
    }

    @Test
    void aNameTheKernelWouldCutShortIsRefusedBeforeAnythingOpens() {
        String sixteen = "lmt0123456789abc";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TapDevice.open(sixteen, 1));
        assertEquals("TAP name \"lmt0123456789abc\" is 16 bytes long; an interface name has at most 15", e.getMessage());
        assertFalse(interfaceExists(sixteen.substring(0, 15)));
        assertEquals("TAP name \"lmtäääääää\" is 17 bytes long; an interface name has at most 15",
                assertThrows(IllegalArgumentException.class, () -> TapDevice.open("lmtäääääää", 1)).getMessage(),
                "the limit is in bytes, not characters");
    }

    @Test
    void namesTheKernelRefusesAreRefusedSaying() {
        for (String name : new String[] {"a/b", "a:b", "a b", "..", ""}) {
            assertThrows(IllegalArgumentException.class, () -> TapDevice.open(name, 1), name);
        }
        assertEquals("a TAP needs a name; \"tap%d\" lets the kernel choose one",
                assertThrows(IllegalArgumentException.class, () -> TapDevice.open("", 1)).getMessage());
    }

    @Test
    void queueCountsOutsideTheKernelsLimitAreRefused() {
        assertEquals("TAP lmt0: 0 queues is outside 1..256",
                assertThrows(IllegalArgumentException.class, () -> TapDevice.open("lmt0", 0)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> TapDevice.open("lmt0", 257));
    }

    @Test
    void aMissingCloneDeviceIsNamedWithWhatToDo() {
        NativeIoException e = assertThrows(NativeIoException.class,
                () -> TapDevice.open("/dev/net/no-such-tun", uniqueName(), 1));
        assertEquals(Errno.ENOENT, e.errno());
        assertEquals("open /dev/net/no-such-tun: ENOENT (No such file or directory): /dev/net/no-such-tun is missing:"
                + " load the tun module (modprobe tun) or, in a container, pass the device in (--device /dev/net/tun)",
                e.getMessage());
    }
}
