package dev.lowmem.vmm.core.memory;

import dev.lowmem.vmm.core.nativeio.Errno;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.FileStatus;
import dev.lowmem.vmm.core.nativeio.LibC;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * {@code size} bytes at {@code offset} of a file a peer handed over, mapped shared and writable
 * in an arena of their own: vhost-user's dirty log (SET_LOG_BASE) and inflight buffer
 * (SET_INFLIGHT_FD). The range is checked against the file's size first, so that no access can
 * reach past its end (SIGBUS); the mapping starts on a page and outlives the fd.
 */
public final class SharedMapping implements AutoCloseable {
    private static final long PAGE = 4096;

    private final Arena arena;
    private final MemorySegment pages;
    private final long lead;
    private final long size;

    private SharedMapping(Arena arena, MemorySegment pages, long lead, long size) {
        this.arena = arena;
        this.pages = pages;
        this.lead = lead;
        this.size = size;
    }

    /**
     * @param what names the mapping in errors: "dirty log", "inflight buffer"
     * @throws IllegalArgumentException when the range is empty or runs past the end of the file
     * @throws NativeIoException when the kernel refuses the mapping
     */
    public static SharedMapping map(FileDescriptor fd, long size, long offset, String what) throws NativeIoException {
        long end = offset + size;
        if (size <= 0 || offset < 0 || end < offset) {
            throw new IllegalArgumentException("a " + what + " of 0x" + Long.toHexString(size) + " bytes at offset 0x"
                    + Long.toHexString(offset));
        }
        long fileSize = FileStatus.of(fd).size();
        if (end > fileSize) {
            throw new IllegalArgumentException("a " + what + " of 0x" + Long.toHexString(size) + " bytes at offset 0x"
                    + Long.toHexString(offset) + " runs past the end of its file (0x" + Long.toHexString(fileSize)
                    + " bytes)");
        }
        long fileOffset = offset & -PAGE;
        long lead = offset - fileOffset;
        long length = (lead + size + PAGE - 1) & -PAGE;
        long address = LibC.mmap(0, length, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, fd.intValue(), fileOffset);
        if (address == LibC.MAP_FAILED) {
            throw new NativeIoException("mmap", what + " (0x" + Long.toHexString(length) + " bytes)", Errno.last());
        }
        Arena arena = Arena.ofShared();
        MemorySegment pages = MemorySegment.ofAddress(address).reinterpret(length, arena,
                unmapped -> LibC.munmap(address, length));
        return new SharedMapping(arena, pages, lead, size);
    }

    /** The whole pages mapped, from the one holding {@code offset}: words in it are aligned. */
    public MemorySegment pages() {
        return pages;
    }

    /** Where {@code offset} falls in {@link #pages()}. */
    public long lead() {
        return lead;
    }

    /** Exactly the {@code size} bytes asked for. */
    public MemorySegment contents() {
        return pages.asSlice(lead, size);
    }

    /** Unmaps; no thread may use the mapping any more. */
    @Override
    public void close() {
        arena.close();
    }
}
