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
