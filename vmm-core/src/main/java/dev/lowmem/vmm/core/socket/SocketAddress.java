package dev.lowmem.vmm.core.socket;

import dev.lowmem.vmm.core.nativeio.LibC;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A filesystem {@code struct sockaddr_un} in native memory.
 *
 * <pre>
 * struct sockaddr_un {           offset
 *     sa_family_t sun_family;    0   AF_UNIX
 *     char        sun_path[108]; 2   NUL-terminated
 * };
 * </pre>
 */
record SocketAddress(MemorySegment segment, int length) {
    private static final long PATH_OFFSET = 2;
    private static final int PATH_CAPACITY = 108;

    /** @throws IllegalArgumentException when the path does not fit in {@code sun_path} */
    static SocketAddress of(Path path, Arena arena) {
        byte[] bytes = path.toString().getBytes(StandardCharsets.UTF_8);
        if (bytes.length >= PATH_CAPACITY) {
            throw new IllegalArgumentException("socket path " + path + " is " + bytes.length
                    + " bytes long; a UNIX socket path holds at most " + (PATH_CAPACITY - 1));
        }
        MemorySegment segment = arena.allocate(PATH_OFFSET + PATH_CAPACITY);
        segment.set(ValueLayout.JAVA_SHORT, 0, (short) LibC.AF_UNIX);
        MemorySegment.copy(bytes, 0, segment, ValueLayout.JAVA_BYTE, PATH_OFFSET, bytes.length);
        return new SocketAddress(segment, (int) PATH_OFFSET + bytes.length + 1);
    }

    long address() {
        return segment.address();
    }
}
