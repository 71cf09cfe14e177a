package dev.lowmem.virtio.mmio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.lowmem.virtio.device.ActiveQueue;
import dev.lowmem.vmm.core.memory.GuestMemory;
import dev.lowmem.vmm.core.memory.MappedRegion;
import dev.lowmem.vmm.core.testing.FuzzInput;
import java.lang.foreign.Arena;
import java.util.List;

/**
 * The virtio-mmio register file against any sequence of accesses a guest can make
 * (docs/FUZZING.md): any offset in the window and past it, any size, any value, on 64 KiB of
 * guest memory at 0x10000 where rings may land or not. Nothing may throw; the identity registers
 * never change; no queue runs unless DRIVER_OK is set; a write of 0 to Status stops every queue
 * and reads back 0; closing the transport stops them all.
 *
 * <p>Input: accesses until it ends, each a byte whose bit 0 picks a write, a u16 offset (the low
 * 10 bits), a byte for the size, and for a write a u32 value.
 */
class VirtioMmioFuzzTest {
    private static final long RAM_GPA = 0x10000;
    private static final int STATUS = MmioRegisters.STATUS;

    @FuzzTest
    void noAccessThrowsOrBreaksTheStatusMachine(byte[] bytes) throws Exception {
        FuzzInput input = new FuzzInput(bytes);
        RecordingDevice device = new RecordingDevice();
        try (Arena arena = Arena.ofShared();
                GuestMemory memory = GuestMemory.of(List.of(new MappedRegion(RAM_GPA, arena.allocate(1 << 16, 4096))))) {
            VirtioMmio mmio = new VirtioMmio(device, 1, memory, () -> { }, 16);
            try {
                while (input.hasMore()) {
                    boolean write = (input.u8() & 1) != 0;
                    int offset = input.u16() & 0x3ff;
                    int size = input.u8();
                    if (write) {
                        int value = input.u32();
                        mmio.write(offset, size, value);
                        if (offset == STATUS && size == 4 && value == 0) {
                            assertEquals(0, mmio.read(STATUS, 4), "a reset clears the status");
                            assertNoneRuns(device);
                        }
                    } else {
                        mmio.read(offset, size);
                    }
                    assertEquals(MmioRegisters.MAGIC, mmio.read(MmioRegisters.MAGIC_VALUE, 4));
                    assertEquals(2, mmio.read(MmioRegisters.VERSION, 4));
                    if ((mmio.read(STATUS, 4) & DeviceStatus.DRIVER_OK) == 0) {
                        assertNoneRuns(device);
                    }
                }
            } finally {
                mmio.close();
            }
            assertNoneRuns(device);
        }
    }

    private static void assertNoneRuns(RecordingDevice device) {
        for (ActiveQueue queue : device.started) {
            boolean entered = queue.tryEnter();
            if (entered) {
                queue.exit();
            }
            assertFalse(entered, "queue " + queue.index() + " still runs");
        }
    }
}
