package dev.lowmem.vmm.core.tap;

import dev.lowmem.vmm.core.nativeio.Errno;
import dev.lowmem.vmm.core.nativeio.Errors;
import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.LibC;
import dev.lowmem.vmm.core.nativeio.NativeIoException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.EnumSet;
import java.util.Set;

/**
 * A TAP interface opened through {@code /dev/net/tun}, with one non-blocking, close-on-exec fd
 * per queue. Each fd reads and writes whole Ethernet frames, each led by a vnet header
 * ({@code struct virtio_net_hdr}, IFF_VNET_HDR) and no packet information (IFF_NO_PI); more than
 * one queue makes the TAP multi-queue (IFF_MULTI_QUEUE), where the kernel spreads received frames
 * over the fds by flow.
 *
 * <p>Opening attaches to the TAP of that name if there is one (a persistent TAP made with
 * {@code ip tuntap add}) or creates it; a TAP this created disappears when its last fd closes.
 * Set-up and offload calls are control-plane work and allocate; the fds are the datapath's.
 */
public final class TapDevice implements AutoCloseable {
    /** The kernel's limit on queues per TAP (MAX_TAP_QUEUES). */
    public static final int MAX_QUEUES = 256;
    static final String CLONE_DEVICE = "/dev/net/tun";

    private final String name;
    private final FileDescriptor[] queues;
    /** Queues TUNSETQUEUE took out of the kernel's steering; guarded by this. */
    private final boolean[] detached;
    private EnumSet<TunOffload> offloads = EnumSet.noneOf(TunOffload.class);

    private TapDevice(String name, FileDescriptor[] queues) {
        this.name = name;
        this.queues = queues;
        this.detached = new boolean[queues.length];
    }

    /**
     * Opens TAP {@code name} with {@code queues} fds, creating it if it does not exist.
     *
     * @param name the interface's name, at most 15 bytes; a {@code %d} in it ("tap%d") has the
     *             kernel number a new TAP, and {@link #name()} tells which name it got
     * @throws NativeIoException naming the TAP and what the errno means: no {@code /dev/net/tun},
     *                           no permission, a TAP in use, a name taken by another kind of interface
     */
    public static TapDevice open(String name, int queues) throws NativeIoException {
        return open(CLONE_DEVICE, name, queues);
    }

    static TapDevice open(String cloneDevice, String name, int queues) throws NativeIoException {
        InterfaceRequest.checkName(name);
        if (queues < 1 || queues > MAX_QUEUES) {
            throw new IllegalArgumentException("TAP " + name + ": " + queues + " queues is outside 1.." + MAX_QUEUES);
        }
        int flags = LibC.IFF_TAP | LibC.IFF_NO_PI | LibC.IFF_VNET_HDR | (queues > 1 ? LibC.IFF_MULTI_QUEUE : 0);
        FileDescriptor[] fds = new FileDescriptor[queues];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifreq = InterfaceRequest.allocate(arena);
            InterfaceRequest.setName(ifreq, name);
            for (int i = 0; i < queues; i++) {
                // The kernel writes the name it gave back into ifreq, so every queue after the
                // first attaches to the TAP the first one created, even from a "tap%d" pattern.
                InterfaceRequest.setFlags(ifreq, flags);
                fds[i] = attachQueue(cloneDevice, ifreq, queues);
            }
            return new TapDevice(InterfaceRequest.name(ifreq), fds);
        } catch (NativeIoException | RuntimeException e) {
            closeAll(fds);
            throw e;
        }
    }

    private static FileDescriptor attachQueue(String cloneDevice, MemorySegment ifreq, int queues) throws NativeIoException {
        int number = LibC.open(cloneDevice, LibC.O_RDWR | LibC.O_NONBLOCK | LibC.O_CLOEXEC);
        if (number < 0) {
            throw TapErrors.openFailed(cloneDevice, Errno.last());
        }
        FileDescriptor fd = FileDescriptor.adopt(number);
        if (LibC.ioctl(number, LibC.TUNSETIFF, ifreq.address()) < 0) {
            int errno = Errno.last();
            fd.close();
            throw TapErrors.attachFailed(InterfaceRequest.name(ifreq), queues, errno);
        }
        return fd;
    }

    /** The interface's name, as the kernel gave it. */
    public String name() {
        return name;
    }

    public int queueCount() {
        return queues.length;
    }

    /** The fd of queue {@code index}: frames in and out of that queue, for one worker. */
    public FileDescriptor queue(int index) {
        if (index < 0 || index >= queues.length) {
            throw new IndexOutOfBoundsException("TAP " + name + " has queues 0.." + (queues.length - 1) + ", not " + index);
        }
        return queues[index];
    }

    /**
     * Attaches queue {@code index} to the TAP or detaches it (TUNSETQUEUE): the kernel steers
     * received frames only to attached queues, and a detached one keeps its fd for a later attach.
     * Every queue starts attached; asking for the state a queue is in does nothing.
     */
    public synchronized void setQueueAttached(int index, boolean attached) throws NativeIoException {
        FileDescriptor queue = queue(index);
        if (detached[index] == !attached) { // already so
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifreq = InterfaceRequest.allocate(arena);
            InterfaceRequest.setFlags(ifreq, attached ? LibC.IFF_ATTACH_QUEUE : LibC.IFF_DETACH_QUEUE);
            Errors.check("TUNSETQUEUE", "TAP " + name + ", " + (attached ? "attaching" : "detaching") + " queue " + index,
                    LibC.ioctl(queue.intValue(), LibC.TUNSETQUEUE, ifreq.address()));
        }
        detached[index] = !attached;
    }

    /** Whether queue {@code index} is attached: the kernel may steer received frames to it. */
    public synchronized boolean queueAttached(int index) {
        queue(index);
        return !detached[index];
    }

    /**
     * Sets the length of the vnet header in front of every frame, both ways: 10 for a legacy
     * {@code virtio_net_hdr}, 12 with {@code num_buffers}. The kernel keeps one size per TAP
     * ({@code tun->vnet_hdr_sz}), so setting it through one queue's fd sets it for all.
     */
    public void setVnetHeaderSize(int size) throws NativeIoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(ValueLayout.JAVA_INT);
            value.set(ValueLayout.JAVA_INT, 0, size);
            Errors.check("TUNSETVNETHDRSZ", "TAP " + name + ", size " + size,
                    LibC.ioctl(queues[0].intValue(), LibC.TUNSETVNETHDRSZ, value.address()));
        }
    }

    /** The vnet header length as the kernel has it, read through queue {@code index}'s fd. */
    public int vnetHeaderSize(int index) throws NativeIoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(ValueLayout.JAVA_INT);
            Errors.check("TUNGETVNETHDRSZ", "TAP " + name,
                    LibC.ioctl(queue(index).intValue(), LibC.TUNGETVNETHDRSZ, value.address()));
            return value.get(ValueLayout.JAVA_INT, 0);
        }
    }

    /**
     * Tells the kernel which offloads the reader handles, replacing those set before; the kernel
     * keeps one set per TAP (the interface's features). It refuses, with EINVAL, a flag it does
     * not know and one without the flag it needs (see {@link TunOffload}).
     */
    public void setOffloads(Set<TunOffload> wanted) throws NativeIoException {
        EnumSet<TunOffload> copy = EnumSet.noneOf(TunOffload.class);
        copy.addAll(wanted);
        if (LibC.ioctl(queues[0].intValue(), LibC.TUNSETOFFLOAD, TunOffload.maskOf(copy)) < 0) {
            throw new NativeIoException("TUNSETOFFLOAD", "TAP " + name + ", offloads " + copy, Errno.last());
        }
        offloads = copy;
    }

    /** The offloads last set, none at first. */
    public Set<TunOffload> offloads() {
        return EnumSet.copyOf(offloads);
    }

    /**
     * The offloads this kernel's TAP accepts: each is set in turn with those accepted before it
     * (in the order of {@link TunOffload}, so CSUM comes before the offloads that need it and a
     * TSO before TSO_ECN), and one the kernel answers with EINVAL is left out. The offloads set
     * before the probe are set again after it.
     */
    public Set<TunOffload> probeOffloads() throws NativeIoException {
        Set<TunOffload> before = offloads();
        EnumSet<TunOffload> accepted = EnumSet.noneOf(TunOffload.class);
        try {
            for (TunOffload offload : TunOffload.values()) {
                EnumSet<TunOffload> candidate = EnumSet.copyOf(accepted);
                candidate.add(offload);
                try {
                    setOffloads(candidate);
                    accepted.add(offload);
                } catch (NativeIoException e) {
                    if (e.errno() != Errno.EINVAL) {
                        throw e;
                    }
                }
            }
        } finally {
            setOffloads(before);
        }
        return accepted;
    }

    /** Closes every queue's fd; a TAP this created goes away with the last. */
    @Override
    public void close() {
        closeAll(queues);
    }

    private static void closeAll(FileDescriptor[] fds) {
        for (FileDescriptor fd : fds) {
            if (fd != null) {
                fd.close();
            }
        }
    }

    @Override
    public String toString() {
        return "TAP " + name;
    }
}
