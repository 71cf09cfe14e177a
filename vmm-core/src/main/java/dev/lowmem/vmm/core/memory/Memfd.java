package dev.lowmem.vmm.core.memory;

import dev.lowmem.vmm.core.nativeio.Errors;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.LibC;
import dev.lowmem.vmm.core.nativeio.NativeIoException;

/** Anonymous shared memory ({@code memfd_create}), the way QEMU backs guest RAM for vhost-user. */
public final class Memfd {
    private Memfd() {
    }

    /** A new memfd of {@code size} bytes (sparse: pages are allocated when first touched). */
    public static FileDescriptor create(String name, long size) throws NativeIoException {
        return create(name, size, LibC.MFD_CLOEXEC);
    }

    /**
     * A new memfd of {@code size} bytes that can be sealed, as QEMU makes guest RAM
     * ({@code memory-backend-memfd}, whose default {@code seal=on} needs it).
     */
    public static FileDescriptor createSealable(String name, long size) throws NativeIoException {
        return create(name, size, LibC.MFD_CLOEXEC | LibC.MFD_ALLOW_SEALING);
    }

    /**
     * Seals {@code fd} against shrinking, if it is not already: a peer that shrinks a file we map
     * makes every later access to the pages past its new end raise SIGBUS. QEMU seals its memfds
     * itself; a memfd made without MFD_ALLOW_SEALING, or a hugetlbfs or tmpfs file, cannot be
     * sealed, and the accesses that fault are the datapath's to survive (docs/ARCHITECTURE.md).
     *
     * @return whether the file is sealed against shrinking now
     */
    public static boolean sealAgainstShrinking(FileDescriptor fd) {
        int seals = LibC.fcntl(fd.intValue(), LibC.F_GET_SEALS, 0);
        if (seals >= 0 && (seals & LibC.F_SEAL_SHRINK) != 0) {
            return true;
        }
        // F_GET_SEALS fails (EINVAL) on a file that cannot carry seals; F_ADD_SEALS fails (EPERM) on
        // one sealed against sealing, as a memfd made without MFD_ALLOW_SEALING comes.
        return seals >= 0 && LibC.fcntl(fd.intValue(), LibC.F_ADD_SEALS, LibC.F_SEAL_SHRINK) == 0;
    }

    /**
     * A new memfd of {@code size} bytes backed by the default huge page size, as DPDK and QEMU
     * with {@code hugepages} use; {@code size} is a multiple of it. Needs huge pages reserved
     * ({@code /proc/sys/vm/nr_hugepages}); without them the first touch of a page fails.
     */
    public static FileDescriptor createHugePages(String name, long size) throws NativeIoException {
        return create(name, size, LibC.MFD_CLOEXEC | LibC.MFD_HUGETLB);
    }

    private static FileDescriptor create(String name, long size, int flags) throws NativeIoException {
        FileDescriptor fd = FileDescriptor.adopt(Errors.check("memfd_create", name, LibC.memfd_create(name, flags)));
        try {
            Errors.check("ftruncate", name, LibC.ftruncate(fd.intValue(), size));
            return fd;
        } catch (NativeIoException e) {
            fd.close();
            throw e;
        }
    }
}
