package dev.lowmem.virtio.mmio;

import static dev.lowmem.virtio.mmio.MmioRegisters.*;

import dev.lowmem.virtio.Feature;
import dev.lowmem.virtio.FeatureNegotiationException;
import dev.lowmem.virtio.device.VirtioDevice;
import dev.lowmem.virtio.queue.InvalidQueueException;
import dev.lowmem.virtio.queue.QueueLayout;
import dev.lowmem.vmm.core.event.EventFd;
import dev.lowmem.vmm.core.event.Signal;
import dev.lowmem.vmm.core.memory.GuestMemory;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The virtio-mmio transport, version 2 (virtio 1.2, 4.2): the register file a VMM's MMIO exit
 * handler calls with {@link #read} and {@link #write}, driving any {@link VirtioDevice}.
 *
 * <p>Nothing a driver writes makes these methods throw. An access the spec forbids (a size or
 * alignment other than the register's, a read of a write-only register or a write of a
 * read-only one, queue setup after DRIVER_OK, a queue larger than QueueNumMax, rings outside
 * guest memory, a status bit cleared) is refused: the register is left as it was, a read gives
 * 0, {@link #lastError()} says why, and the status reports DEVICE_NEEDS_RESET until the driver
 * resets the device (with a configuration-change interrupt once DRIVER_OK was set, 2.1.2).
 *
 * <p>Interrupts: the device's used-buffer signals set InterruptStatus bit 0 and raise the VMM's
 * {@code interrupt}; a queue that faults sets DEVICE_NEEDS_RESET and bit 1. Notifications: a
 * QueueNotify write signals the queue's kick eventfd ({@link #kick(int)}), which a VMM may bind
 * as an ioeventfd instead, so that notifications never exit to it.
 *
 * <p>Thread-safe: several vCPU threads may call it; the datapath only touches InterruptStatus
 * and the needs-reset flag.
 */
public final class VirtioMmio implements AutoCloseable {
    /** Used buffers on some queue (InterruptStatus bit 0). */
    public static final int INTERRUPT_USED_BUFFER = 1;
    /** The configuration or the device status changed (InterruptStatus bit 1). */
    public static final int INTERRUPT_CONFIG_CHANGE = 2;
    /** Linux, cloud-hypervisor and Firecracker use 256-entry rings for a network device. */
    public static final int DEFAULT_MAX_QUEUE_SIZE = 256;
    /** The size of the window a VMM maps the device at: registers and configuration space. */
    public static final int WINDOW_SIZE = 0x200;
    /** A VendorID of our own; drivers match on DeviceID and ignore it. */
    public static final int VENDOR = 0x4c4d5654;

    private static final System.Logger LOG = System.getLogger(VirtioMmio.class.getName());
    private static final int VERSION_2 = 2;
    private static final int NO_SHARED_MEMORY = -1;

    private final VirtioDevice device;
    private final int deviceId;
    private final GuestMemory memory;
    private final Signal interrupt;
    private final MmioQueue[] queues;
    private final AtomicInteger interruptStatus = new AtomicInteger();
    private final Signal usedBuffers = () -> raise(INTERRUPT_USED_BUFFER);
    private final Signal queueFault = this::queueFaulted;
    private volatile boolean needsReset;
    private volatile String lastError;
    private int status;
    private int deviceFeaturesSel;
    private int driverFeaturesSel;
    private long driverFeatures;
    private int queueSel;

    /**
     * @param deviceId  what DeviceID reports (1 for a network device)
     * @param memory    the guest's memory, where the rings and buffers are
     * @param interrupt raises the device's interrupt line: an irqfd {@link EventFd}, or the VMM's own routine
     */
    public VirtioMmio(VirtioDevice device, int deviceId, GuestMemory memory, Signal interrupt, int maxQueueSize)
            throws NativeIoException {
        if (!QueueLayout.isValidSize(maxQueueSize)) {
            throw new IllegalArgumentException("queue size " + maxQueueSize + " is not a power of two up to "
                    + QueueLayout.MAX_SIZE);
        }
        this.device = device;
        this.deviceId = deviceId;
        this.memory = memory;
        this.interrupt = interrupt;
        queues = new MmioQueue[device.maxQueues()];
        try {
            for (int i = 0; i < queues.length; i++) {
                queues[i] = new MmioQueue(i, maxQueueSize);
            }
        } catch (NativeIoException e) {
            close();
            throw e;
        }
    }

    public VirtioMmio(VirtioDevice device, int deviceId, GuestMemory memory, Signal interrupt)
            throws NativeIoException {
        this(device, deviceId, memory, interrupt, DEFAULT_MAX_QUEUE_SIZE);
    }

    /** The kick eventfd of queue {@code index}: what QueueNotify signals, for the VMM to bind as an ioeventfd. */
    public EventFd kick(int index) {
        return queues[index].kick();
    }

    /** Why the last access was refused, or null when none was since the transport was made. */
    public String lastError() {
        return lastError;
    }

    /** InterruptStatus, for a VMM with a level-triggered line: it lowers the line when this is 0. */
    public int interruptStatus() {
        return interruptStatus.get();
    }

    /**
     * A driver's read of {@code size} bytes at {@code offset} in the device's window.
     *
     * @return the value, zero-extended; 0 for a refused read
     */
    public synchronized int read(long offset, int size) {
        try {
            if (offset >= CONFIG) {
                return readConfig(offset, size);
            }
            if (!isRegisterAccess(offset, size, "read")) {
                return 0;
            }
            return readRegister((int) offset);
        } catch (RuntimeException e) {
            refuse("read of " + size + " bytes at 0x" + Long.toHexString(offset) + " failed: " + e);
            return 0;
        }
    }

    /** A driver's write of the low {@code size} bytes of {@code value} at {@code offset} in the device's window. */
    public synchronized void write(long offset, int size, int value) {
        try {
            if (offset >= CONFIG) {
                writeConfig(offset, size, value);
            } else if (isRegisterAccess(offset, size, "write")) {
                writeRegister((int) offset, value);
            }
        } catch (RuntimeException | NativeIoException e) {
            refuse("write of " + size + " bytes at 0x" + Long.toHexString(offset) + " failed: " + e);
        }
    }

    private boolean isRegisterAccess(long offset, int size, String access) {
        if (size != Integer.BYTES || (offset & (Integer.BYTES - 1)) != 0 || offset < 0) {
            refuse(access + " of " + size + " bytes at 0x" + Long.toHexString(offset)
                    + ": registers take aligned 4-byte accesses");
            return false;
        }
        return true;
    }

    private int readRegister(int offset) {
        MmioQueue queue = selectedQueue();
        return switch (offset) {
            case MAGIC_VALUE -> MAGIC;
            case VERSION -> VERSION_2;
            case DEVICE_ID -> deviceId;
            case VENDOR_ID -> VENDOR;
            case DEVICE_FEATURES -> featureHalf(device.deviceFeatures(), deviceFeaturesSel);
            case QUEUE_NUM_MAX -> queue == null ? 0 : queue.maxSize();
            case QUEUE_READY -> queue != null && queue.ready() ? 1 : 0;
            case INTERRUPT_STATUS -> interruptStatus.get();
            case STATUS -> status | (needsReset ? DeviceStatus.DEVICE_NEEDS_RESET : 0);
            // No shared memory regions: their length reads as -1 (4.2.2).
            case SHM_LEN_LOW, SHM_LEN_HIGH, SHM_BASE_LOW, SHM_BASE_HIGH -> NO_SHARED_MEMORY;
            // The configuration space changes only when the driver writes it, never under it.
            case CONFIG_GENERATION -> 0;
            default -> {
                refuse("read of 0x" + Integer.toHexString(offset) + ", which is no readable register");
                yield 0;
            }
        };
    }

    private void writeRegister(int offset, int value) throws NativeIoException {
        switch (offset) {
            case DEVICE_FEATURES_SEL -> deviceFeaturesSel = value;
            case DRIVER_FEATURES_SEL -> driverFeaturesSel = value;
            case DRIVER_FEATURES -> writeDriverFeatures(value);
            case QUEUE_SEL -> queueSel = value;
            case QUEUE_NUM -> writeQueueNum(value);
            case QUEUE_READY -> writeQueueReady(value);
            case QUEUE_DESC_LOW, QUEUE_DESC_HIGH, QUEUE_DRIVER_LOW, QUEUE_DRIVER_HIGH, QUEUE_DEVICE_LOW,
                    QUEUE_DEVICE_HIGH -> writeQueueArea(offset, value);
            case QUEUE_NOTIFY -> writeQueueNotify(value);
            case INTERRUPT_ACK -> interruptStatus.getAndUpdate(pending -> pending & ~value);
            case STATUS -> writeStatus(value);
            case SHM_SEL -> { } // no region to select
            default -> refuse("write of 0x" + Integer.toHexString(value) + " to 0x" + Integer.toHexString(offset)
                    + ", which is no writable register");
        }
    }

    private static int featureHalf(long features, int select) {
        return switch (select) {
            case 0 -> (int) features;
            case 1 -> (int) (features >>> 32);
            default -> 0;
        };
    }

    private void writeDriverFeatures(int value) {
        if ((status & DeviceStatus.FEATURES_OK) != 0) {
            refuse("DriverFeatures written after FEATURES_OK: the features are settled");
            return;
        }
        long word = Integer.toUnsignedLong(value);
        switch (driverFeaturesSel) {
            case 0 -> driverFeatures = (driverFeatures & ~0xffff_ffffL) | word;
            case 1 -> driverFeatures = (driverFeatures & 0xffff_ffffL) | word << 32;
            default -> {
                if (value != 0) {
                    refuse("DriverFeatures word " + driverFeaturesSel + " set to 0x" + Integer.toHexString(value)
                            + ": no feature bits there");
                }
            }
        }
    }

    /** The queue QueueSel names, or null when the device has no such queue. */
    private MmioQueue selectedQueue() {
        return queueSel >= 0 && queueSel < queues.length ? queues[queueSel] : null;
    }

    /** The selected queue if its registers may change now; otherwise refused, and null. */
    private MmioQueue queueToSetUp(String register) {
        MmioQueue queue = selectedQueue();
        if (queue == null) {
            refuse(register + " written for queue " + queueSel + "; the device has " + queues.length);
        } else if ((status & DeviceStatus.DRIVER_OK) != 0) {
            refuse(register + " written for queue " + queueSel + " after DRIVER_OK");
        } else if (queue.ready()) {
            refuse(register + " written for queue " + queueSel + ", which is ready: write QueueReady 0 first");
        } else {
            return queue;
        }
        return null;
    }

    private void writeQueueNum(int value) {
        MmioQueue queue = queueToSetUp("QueueNum");
        if (queue == null) {
            return;
        }
        if (value <= 0 || value > queue.maxSize() || !QueueLayout.isValidSize(value)) {
            refuse("QueueNum " + Integer.toUnsignedString(value) + " for queue " + queueSel
                    + " is not a power of two from 1 to QueueNumMax " + queue.maxSize());
            return;
        }
        queue.setSize(value);
    }

    private void writeQueueArea(int offset, int value) {
        MmioQueue queue = queueToSetUp("a queue address register");
        if (queue != null) {
            queue.setAreaHalf((offset - QUEUE_DESC_LOW) / 0x10, (offset & Integer.BYTES) != 0, value);
        }
    }

    private void writeQueueReady(int value) {
        if (value != 0 && value != 1) {
            refuse("QueueReady " + Integer.toUnsignedString(value) + " for queue " + queueSel + ": only 0 or 1");
            return;
        }
        MmioQueue queue = selectedQueue();
        if (value == 0 && queue != null && (status & DeviceStatus.DRIVER_OK) == 0) {
            // Linux writes 0 when it deletes its queues, after the reset; a queue not ready stays so.
            queue.unready();
            return;
        }
        queue = queueToSetUp("QueueReady");
        if (queue == null) {
            return;
        }
        if ((status & DeviceStatus.FEATURES_OK) == 0) {
            refuse("QueueReady for queue " + queueSel + " before FEATURES_OK: the ring layout is not settled");
            return;
        }
        try {
            queue.makeReady(driverFeatures, memory);
        } catch (InvalidQueueException e) {
            refuse("queue " + queueSel + " cannot be made ready: " + e.getMessage());
        }
    }

    private void writeQueueNotify(int value) throws NativeIoException {
        if (value < 0 || value >= queues.length) {
            refuse("QueueNotify for queue " + Integer.toUnsignedString(value) + "; the device has " + queues.length);
            return;
        }
        // A kick for a queue the device does not run, or no longer serves after a fault, would stay
        // unread and wake a datapath loop that watches it for nothing, again and again.
        if (queues[value].running() && !queues[value].faulted()) {
            queues[value].kick().signal();
        }
    }

    private void writeStatus(int value) throws NativeIoException {
        if (value == 0) {
            reset();
            return;
        }
        // The driver echoes DEVICE_NEEDS_RESET when it adds a bit to what it read; the bit is the device's.
        int next = value & ~DeviceStatus.DEVICE_NEEDS_RESET;
        if ((status & ~next) != 0) {
            refuse("Status 0x" + Integer.toHexString(value) + " clears bits of 0x" + Integer.toHexString(status)
                    + "; only a write of 0 (reset) may");
            return;
        }
        int added = next & ~status;
        if ((added & DeviceStatus.FEATURES_OK) != 0 && !featuresAccepted()) {
            // The spec's refusal: FEATURES_OK stays clear, and the driver reads that back (3.1.1).
            added &= ~DeviceStatus.FEATURES_OK;
        }
        if ((added & DeviceStatus.DRIVER_OK) != 0 && (next & DeviceStatus.FEATURES_OK) == 0) {
            refuse("DRIVER_OK without FEATURES_OK");
            return;
        }
        status |= added;
        if ((added & DeviceStatus.DRIVER_OK) != 0) {
            startQueues();
        }
    }

    private boolean featuresAccepted() {
        if (!Feature.VERSION_1.in(driverFeatures)) {
            lastError = "FEATURES_OK refused: a version 2 virtio-mmio driver must accept VERSION_1";
            LOG.log(System.Logger.Level.WARNING, lastError);
            return false;
        }
        try {
            device.acknowledgeFeatures(driverFeatures);
            return true;
        } catch (FeatureNegotiationException e) {
            lastError = "FEATURES_OK refused: " + e.getMessage();
            LOG.log(System.Logger.Level.WARNING, lastError);
            return false;
        }
    }

    private void startQueues() {
        for (int i = 0; i < queues.length; i++) {
            try {
                queues[i].start(device, usedBuffers, queueFault);
            } catch (RuntimeException e) {
                refuse("queue " + i + " cannot start: " + e.getMessage());
            }
        }
    }

    /**
     * Status 0: every queue stops and the device forgets the driver (what it held for it is
     * dropped and counted, docs/ARCHITECTURE.md "A reset forgets"); every register goes back to
     * its reset value.
     */
    private void reset() throws NativeIoException {
        for (MmioQueue queue : queues) {
            queue.reset(device);
        }
        device.reset();
        status = 0;
        needsReset = false;
        interruptStatus.set(0);
        deviceFeaturesSel = 0;
        driverFeaturesSel = 0;
        driverFeatures = 0;
        queueSel = 0;
    }

    private int readConfig(long offset, int size) {
        if (!isConfigAccess(offset, size, "read")) {
            return 0;
        }
        byte[] bytes = device.readConfig((int) (offset - CONFIG), size);
        int value = 0;
        for (int i = bytes.length - 1; i >= 0; i--) {
            value = value << 8 | bytes[i] & 0xff;
        }
        return value;
    }

    private void writeConfig(long offset, int size, int value) {
        if (!isConfigAccess(offset, size, "write")) {
            return;
        }
        byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++) {
            bytes[i] = (byte) (value >>> 8 * i);
        }
        device.writeConfig((int) (offset - CONFIG), bytes);
    }

    /** Configuration fields are 1, 2 or 4 bytes, accessed at their natural alignment (4.2.2.2). */
    private boolean isConfigAccess(long offset, int size, String access) {
        if ((size != 1 && size != 2 && size != 4) || (offset & (size - 1)) != 0 || offset >= WINDOW_SIZE) {
            refuse("config " + access + " of " + size + " bytes at 0x" + Long.toHexString(offset)
                    + ": 1, 2 or 4 bytes at their alignment, inside the window");
            return false;
        }
        return true;
    }

    /** The used-buffer or configuration-change notification: the bit first, so the driver's handler finds it. */
    private void raise(int cause) throws NativeIoException {
        interruptStatus.getAndUpdate(pending -> pending | cause);
        interrupt.signal();
    }

    /** A queue faulted on a worker (its device stopped it for good): the driver must reset the device. */
    private void queueFaulted() throws NativeIoException {
        needsReset = true;
        raise(INTERRUPT_CONFIG_CHANGE);
    }

    private void refuse(String reason) {
        lastError = reason;
        LOG.log(System.Logger.Level.WARNING, "virtio-mmio device " + deviceId + ": " + reason
                + "; DEVICE_NEEDS_RESET set");
        needsReset = true;
        if ((status & DeviceStatus.DRIVER_OK) != 0) {
            try {
                raise(INTERRUPT_CONFIG_CHANGE);
            } catch (NativeIoException e) {
                LOG.log(System.Logger.Level.ERROR, "virtio-mmio device " + deviceId + ": cannot raise the interrupt", e);
            }
        }
    }

    /** Stops the queues and closes their kick eventfds; the device and the memory stay the caller's. */
    @Override
    public synchronized void close() {
        for (MmioQueue queue : queues) {
            if (queue != null) {
                try {
                    queue.reset(device);
                } catch (NativeIoException e) {
                    LOG.log(System.Logger.Level.ERROR, "virtio-mmio: draining a kick at close failed", e);
                }
                queue.close();
            }
        }
    }
}
