package dev.lowmem.vmm.core.event;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A reusable array of {@code struct epoll_event} that {@link Epoll#wait} fills. x86_64 packs the
 * struct, so the 64-bit data field sits at offset 4, unaligned.
 *
 * <pre>
 * struct epoll_event {       offset
 *     uint32_t     events;   0
 *     epoll_data_t data;     4   (we store a caller-chosen token)
 * } __attribute__((packed)); size 12
 * </pre>
 */
public final class EpollEvents {
    static final long EVENTS_OFFSET = 0;
    static final long DATA_OFFSET = 4;
    static final long SIZE = 12;

    private final MemorySegment array;
    private final int capacity;

    public EpollEvents(Arena arena, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("epoll event capacity must be positive: " + capacity);
        }
        this.array = arena.allocate(SIZE * capacity, Long.BYTES);
        this.capacity = capacity;
    }

    /** The ready mask (EPOLLIN, EPOLLHUP, ...) of the i-th ready entry. */
    public int events(int i) {
        return array.get(ValueLayout.JAVA_INT_UNALIGNED, i * SIZE + EVENTS_OFFSET);
    }

    /** The token registered with the fd of the i-th ready entry. */
    public long token(int i) {
        return array.get(ValueLayout.JAVA_LONG_UNALIGNED, i * SIZE + DATA_OFFSET);
    }

    int capacity() {
        return capacity;
    }

    long address() {
        return array.address();
    }
}
