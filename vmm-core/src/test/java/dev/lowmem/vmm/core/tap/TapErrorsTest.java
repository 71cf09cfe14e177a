package dev.lowmem.vmm.core.tap;

import dev.lowmem.vmm.core.nativeio.Errno;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The failures a root test cannot bring about for real: without the capability, without the module. */
class TapErrorsTest {

    @Test
    void noPermissionOnTheCloneDeviceSaysWhatATapNeeds() {
        assertEquals("open /dev/net/tun: EACCES (Permission denied): no permission to open /dev/net/tun:"
                        + " a TAP needs CAP_NET_ADMIN, or a TAP owned by your user"
                        + " (ip tuntap add NAME mode tap user $USER vnet_hdr) and read-write access to /dev/net/tun",
                TapErrors.openFailed("/dev/net/tun", Errno.EACCES).getMessage());
    }

    @Test
    void noPermissionOnTheTapSaysHowToMakeOneOfYourOwn() {
        assertEquals("TUNSETIFF vnet0: EPERM (Operation not permitted): TAP vnet0 needs CAP_NET_ADMIN,"
                        + " or to be a TAP owned by your user (ip tuntap add vnet0 mode tap user $USER vnet_hdr multi_queue)",
                TapErrors.attachFailed("vnet0", 4, Errno.EPERM).getMessage());
    }

    @Test
    void aCloneDeviceWithoutItsModuleSaysToLoadIt() {
        assertEquals("open /dev/net/tun: ENODEV (No such device): /dev/net/tun has no driver: load the tun module (modprobe tun)",
                TapErrors.openFailed("/dev/net/tun", Errno.ENODEV).getMessage());
    }

    @Test
    void anErrnoWithoutAMeaningHereIsNamedPlainly() {
        assertEquals("TUNSETIFF vnet0: ENOMEM (Cannot allocate memory)",
                TapErrors.attachFailed("vnet0", 1, Errno.ENOMEM).getMessage());
    }
}
