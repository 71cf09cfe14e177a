package dev.lowmem.vmm.core.memory;

/** Why a range of guest addresses does not translate into one slice of mapped memory. */
public enum AddressFault {
    /** The range's first byte lies in no region. */
    OUTSIDE_MEMORY("is outside guest memory"),
    /** The range starts inside a region and runs past its end (into a hole, or past the last region). */
    CROSSES_REGION_END("runs past the end of its memory region"),
    /** {@code address + length} wraps past 2^64. */
    ADDRESS_OVERFLOW("overflows the 64-bit address space"),
    /** The range spans more regions than the {@link ScatterList} it is gathered into has room for. */
    TOO_MANY_PIECES("spans more memory regions than the buffer list holds");

    private final String description;

    AddressFault(String description) {
        this.description = description;
    }

    /** "0x7f0000+4096 is outside guest memory". */
    public String describe(long address, long length) {
        return "0x" + Long.toHexString(address) + "+" + Long.toUnsignedString(length) + " " + description;
    }
}
