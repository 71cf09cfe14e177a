package dev.lowmem.vmm.core.memory;

import java.lang.foreign.MemorySegment;

/**
 * The result of translating a range of guest (or frontend-virtual) addresses: the caller must
 * look at which one it got, and a bad address from the guest is an ordinary outcome, not an
 * exception.
 *
 * <pre>{@code
 * switch (memory.translate(addr, len)) {
 *     case Translation.Mapped(MemorySegment bytes) -> use(bytes);
 *     case Translation.Fault fault -> reject(fault.message());
 * }
 * }</pre>
 */
public sealed interface Translation {

    /** The range, as a bounds-checked slice of the mapping; it fails cleanly once the table is retired. */
    record Mapped(MemorySegment segment) implements Translation {
    }

    /** The range does not lie within one region; {@link #message()} says how. */
    record Fault(AddressFault reason, long address, long length) implements Translation {
        public String message() {
            return reason.describe(address, length);
        }
    }
}
