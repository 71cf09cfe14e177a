package dev.lowmem.tools.vhostusernet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;

class SocketModeTest {

    @Test
    void octalDigitsAreThePermissionsChmodGives() {
        assertEquals(PosixFilePermissions.fromString("rw-------"), SocketMode.parse("0600").permissions());
        assertEquals(PosixFilePermissions.fromString("rw-rw----"), SocketMode.parse("660").permissions());
        assertEquals(PosixFilePermissions.fromString("rwxr-xr-x"), SocketMode.parse("755").permissions());
        assertEquals(PosixFilePermissions.fromString("---------"), SocketMode.parse("0").permissions());
    }

    @Test
    void writtenWithFourDigits() {
        assertEquals("0600", SocketMode.OWNER_ONLY.toString());
        assertEquals("0066", SocketMode.parse("66").toString());
    }

    @Test
    void notOctalOrBeyondThePermissionsIsRefused() {
        assertEquals("'rw' is not an octal file mode like 0600",
                assertThrows(IllegalArgumentException.class, () -> SocketMode.parse("rw")).getMessage());
        assertEquals("'06000' is not an octal file mode like 0600",
                assertThrows(IllegalArgumentException.class, () -> SocketMode.parse("06000")).getMessage());
        assertEquals("04755 has bits beyond the permissions 0777",
                assertThrows(IllegalArgumentException.class, () -> SocketMode.parse("4755")).getMessage());
    }
}
