package dev.lowmem.tools.vhostusernet;

import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

/**
 * The file mode of the socket the command listens on, as {@code chmod} writes it: "0600" lets
 * only the backend's user connect, "0660" its group too (QEMU run as another user of the group).
 */
record SocketMode(int bits) {
    /** Owner read and write. */
    static final SocketMode OWNER_ONLY = new SocketMode(0600);
    private static final int PERMISSION_BITS = 0777;
    /** In the order of their bits from the top, as PosixFilePermission lists them. */
    private static final PosixFilePermission[] BY_BIT_FROM_TOP = PosixFilePermission.values();

    SocketMode {
        if ((bits & ~PERMISSION_BITS) != 0) {
            throw new IllegalArgumentException("0" + Integer.toOctalString(bits) + " has bits beyond the permissions 0777");
        }
    }

    /** "0660" or "660". */
    static SocketMode parse(String octal) {
        if (!octal.matches("[0-7]{1,4}")) {
            throw new IllegalArgumentException("'" + octal + "' is not an octal file mode like 0600");
        }
        return new SocketMode(Integer.parseInt(octal, 8));
    }

    Set<PosixFilePermission> permissions() {
        Set<PosixFilePermission> permissions = EnumSet.noneOf(PosixFilePermission.class);
        for (int i = 0; i < BY_BIT_FROM_TOP.length; i++) {
            if ((bits & (0400 >>> i)) != 0) {
                permissions.add(BY_BIT_FROM_TOP[i]);
            }
        }
        return permissions;
    }

    @Override
    public String toString() {
        return String.format("%04o", bits);
    }
}
