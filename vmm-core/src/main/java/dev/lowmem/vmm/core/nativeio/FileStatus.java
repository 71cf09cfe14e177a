package dev.lowmem.vmm.core.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The fields of {@code struct stat} (x86_64 layout) this project reads.
 *
 * <pre>
 * struct stat {                  offset
 *     ...
 *     mode_t    st_mode;         24
 *     ...
 *     off_t     st_size;         48
 *     blksize_t st_blksize;      56
 *     ...
 * };                             size 144
 * </pre>
 *
 * @param size      the file's length in bytes
 * @param blockSize the preferred I/O size: the page size for memfd and tmpfs, the huge page size
 *                  for hugetlbfs, hence the alignment a mapping of the file needs
 */
public record FileStatus(int mode, long size, long blockSize) {
    private static final long MODE_OFFSET = 24;
    private static final long SIZE_OFFSET = 48;
    private static final long BLKSIZE_OFFSET = 56;
    private static final long STAT_SIZE = 144;

    public static FileStatus of(FileDescriptor fd) throws NativeIoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment stat = arena.allocate(STAT_SIZE, Long.BYTES);
            Errors.check("fstat", LibC.fstat(fd.intValue(), stat.address()));
            return new FileStatus(stat.get(ValueLayout.JAVA_INT, MODE_OFFSET),
                    stat.get(ValueLayout.JAVA_LONG, SIZE_OFFSET),
                    stat.get(ValueLayout.JAVA_LONG, BLKSIZE_OFFSET));
        }
    }
}
