package dev.lowmem.vmm.core.pool;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

class ReturnStackTest {
    private final ReturnStack stack = new ReturnStack();

    private static PacketBuffer buffer() {
        return new PacketBuffer(MemorySegment.ofArray(new byte[64]), null);
    }

    @Test
    void anEmptyStackDrainsToNull() {
        assertNull(stack.drain());
    }

    @Test
    void aDrainTakesEveryPushNewestFirstAndLeavesTheStackEmpty() {
        PacketBuffer first = buffer();
        PacketBuffer second = buffer();
        PacketBuffer third = buffer();
        stack.push(first);
        stack.push(second);
        stack.push(third);

        PacketBuffer drained = stack.drain();

        assertSame(third, drained);
        assertSame(second, drained.next);
        assertSame(first, drained.next.next);
        assertNull(first.next);
        assertNull(stack.drain());
    }

    @Test
    void aPushAfterADrainStartsANewList() {
        PacketBuffer old = buffer();
        stack.push(old);
        stack.drain();
        PacketBuffer fresh = buffer();

        stack.push(fresh);

        assertSame(fresh, stack.drain());
        assertNull(fresh.next);
    }
}
