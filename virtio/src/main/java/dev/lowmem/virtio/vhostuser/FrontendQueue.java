package dev.lowmem.virtio.vhostuser;

import dev.lowmem.virtio.queue.DriverQueue;
import dev.lowmem.virtio.queue.IndirectTables;
import dev.lowmem.virtio.queue.QueueConfig;
import dev.lowmem.virtio.queue.QueueLayout;
import dev.lowmem.virtio.queue.RingAddresses;
import dev.lowmem.vmm.core.event.EventFd;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import java.io.IOException;

/**
 * One virtqueue as a front-end drives it: the guest driver's side of the rings in
 * {@link FrontendMemory}, the kick eventfd the driver signals and the call eventfd the back-end
 * signals.
 */
public final class FrontendQueue implements AutoCloseable {
    private final FrontendMemory memory;
    private final QueueConfig config;
    private final DriverQueue driver;
    private final EventFd kick;
    private final EventFd call;

    private FrontendQueue(FrontendMemory memory, QueueConfig config, DriverQueue driver, EventFd kick, EventFd call) {
        this.memory = memory;
        this.config = config;
        this.driver = driver;
        this.kick = kick;
        this.call = call;
    }

    /**
     * A fresh queue of {@code size} entries with its rings placed from guest-physical {@code gpa},
     * in the layout and with the notification scheme {@code features} select.
     */
    public static FrontendQueue create(FrontendMemory memory, long gpa, long features, int size) throws NativeIoException {
        return create(memory, gpa, features, size, IndirectTables.none());
    }

    /**
     * A fresh queue as {@link #create(FrontendMemory, long, long, int)} makes, able to post
     * indirect chains: its tables take {@code indirectBytes} of guest memory from
     * {@code indirectGpa}.
     */
    public static FrontendQueue create(FrontendMemory memory, long gpa, long features, int size, long indirectGpa,
            long indirectBytes) throws NativeIoException {
        return create(memory, gpa, features, size,
                new IndirectTables(memory.bytes(indirectGpa, indirectBytes), indirectGpa));
    }

    private static FrontendQueue create(FrontendMemory memory, long gpa, long features, int size,
            IndirectTables indirect) throws NativeIoException {
        QueueConfig config = QueueConfig.of(features, size, RingAddresses.placeFrom(gpa, QueueLayout.of(features), size));
        DriverQueue driver = DriverQueue.create(config, memory.guestMemory()::translate, indirect);
        EventFd kick = EventFd.create();
        try {
            return new FrontendQueue(memory, config, driver, kick, EventFd.create());
        } catch (NativeIoException e) {
            kick.close();
            throw e;
        }
    }

    /** The rings' addresses as SET_VRING_ADDR carries them: in our mapping, like QEMU's. */
    public VringAddress vringAddress(int index) {
        RingAddresses rings = config.rings();
        return new VringAddress(index, 0, memory.userAddress(rings.descArea()), memory.userAddress(rings.deviceArea()),
                memory.userAddress(rings.driverArea()), 0);
    }

    /**
     * Hands the queue to the back-end as queue {@code index}, in QEMU's order: size, base,
     * addresses, kick, call.
     *
     * @param ringBase where the back-end starts: 0 for a fresh split ring,
     *                 {@code PackedDeviceQueue.INITIAL_RING_BASE} for a fresh packed one
     */
    public void setUp(VhostUserFrontend frontend, int index, int ringBase) throws IOException, VhostUserException {
        frontend.setVringNum(index, config.size());
        frontend.setVringBase(index, ringBase);
        frontend.setVringAddr(vringAddress(index));
        frontend.setVringKick(index, kick);
        frontend.setVringCall(index, call);
    }

    /**
     * Makes the chains added since the last call available and kicks the back-end if it asked.
     *
     * @return whether it kicked
     */
    public boolean publish() throws NativeIoException {
        boolean wanted = driver.publish();
        if (wanted) {
            kick.signal();
        }
        return wanted;
    }

    public DriverQueue driver() {
        return driver;
    }

    public QueueConfig config() {
        return config;
    }

    public EventFd kick() {
        return kick;
    }

    public EventFd call() {
        return call;
    }

    /** Closes the eventfds; the rings stay in the memory, which is not ours. */
    @Override
    public void close() {
        kick.close();
        call.close();
    }
}
