package dev.lowmem.vmm.core.pool;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Buffers other threads gave back to one user: an intrusive lock-free stack linked through
 * {@link PacketBuffer#next}. Any thread pushes with a CAS; the owner takes the whole stack with
 * one {@code getAndSet(null)}. Because nothing ever pops a single element, a head seen again
 * after a drain cannot mislead a push (no ABA), and nothing is allocated either way.
 */
final class ReturnStack {
    private static final VarHandle HEAD;

    static {
        try {
            HEAD = MethodHandles.lookup().findVarHandle(ReturnStack.class, "head", PacketBuffer.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused") // through HEAD
    private PacketBuffer head;

    /** Any thread. The CAS publishes {@code buffer.next} and whatever the caller wrote to the buffer. */
    void push(PacketBuffer buffer) {
        PacketBuffer top;
        do {
            top = (PacketBuffer) HEAD.getVolatile(this);
            buffer.next = top;
        } while (!HEAD.compareAndSet(this, top, buffer));
    }

    /**
     * Takes every buffer pushed so far, newest first, linked through {@code next} (the last one's
     * {@code next} is null); null when there are none. Checks with a plain acquire read first, so
     * an empty stack, the usual case at the end of a poll cycle, costs no atomic instruction.
     */
    PacketBuffer drain() {
        if ((PacketBuffer) HEAD.getAcquire(this) == null) {
            return null;
        }
        return (PacketBuffer) HEAD.getAndSet(this, (PacketBuffer) null);
    }
}
