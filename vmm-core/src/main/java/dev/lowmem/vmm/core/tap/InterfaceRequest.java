package dev.lowmem.vmm.core.tap;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * The layout of {@code struct ifreq} (x86_64, {@code <net/if.h>}) as TUNSETIFF reads it and
 * writes it back: the interface's name, NUL-terminated, then the TUN flags in the union after it.
 *
 * <pre>
 * struct ifreq {                     offset
 *     char ifr_name[IFNAMSIZ];       0    IFNAMSIZ 16: at most 15 bytes and a NUL
 *     union {
 *         short ifr_flags;           16   IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | ...
 *         struct ifmap ifr_map;      16   the largest member, 24 bytes
 *         ...
 *     };
 * };                                 size 40
 * </pre>
 */
final class InterfaceRequest {
    static final int IFNAMSIZ = 16;
    /** The longest name: the kernel cuts a longer one to this length without a word. */
    static final int MAX_NAME_BYTES = IFNAMSIZ - 1;
    static final long NAME_OFFSET = 0;
    static final long FLAGS_OFFSET = 16;
    static final long SIZE = 40;

    private InterfaceRequest() {
    }

    /** A zeroed ifreq. */
    static MemorySegment allocate(Arena arena) {
        return arena.allocate(SIZE, Long.BYTES);
    }

    /**
     * Refuses a name the kernel would cut short or refuse (its {@code dev_valid_name}), so the
     * TAP opened is the one asked for. A {@code %d} in the name asks the kernel to number it.
     */
    static void checkName(String name) {
        if (name.isEmpty()) {
            throw new IllegalArgumentException("a TAP needs a name; \"tap%d\" lets the kernel choose one");
        }
        int bytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_NAME_BYTES) {
            throw new IllegalArgumentException("TAP name \"" + name + "\" is " + bytes
                    + " bytes long; an interface name has at most " + MAX_NAME_BYTES);
        }
        if (name.equals(".") || name.equals("..") || name.chars().anyMatch(c -> c == '/' || c == ':' || Character.isWhitespace(c))) {
            throw new IllegalArgumentException("TAP name \"" + name
                    + "\" is not an interface name: it may not be . or .., nor hold '/', ':' or white space");
        }
    }

    /** Writes {@code name}, already checked, and clears the rest of the name field. */
    static void setName(MemorySegment ifreq, String name) {
        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        MemorySegment field = ifreq.asSlice(NAME_OFFSET, IFNAMSIZ);
        field.fill((byte) 0);
        MemorySegment.copy(bytes, 0, field, ValueLayout.JAVA_BYTE, 0, bytes.length);
    }

    /** The name up to its NUL: after TUNSETIFF, the one the kernel gave the interface. */
    static String name(MemorySegment ifreq) {
        return ifreq.asSlice(NAME_OFFSET, IFNAMSIZ).getString(0, StandardCharsets.UTF_8);
    }

    static void setFlags(MemorySegment ifreq, int flags) {
        ifreq.set(ValueLayout.JAVA_SHORT, FLAGS_OFFSET, (short) flags);
    }
}
