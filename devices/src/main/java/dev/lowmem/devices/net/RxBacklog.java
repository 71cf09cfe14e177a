package dev.lowmem.devices.net;

import dev.lowmem.devices.port.PortReceiver;
import dev.lowmem.devices.port.RxBuffers;
import dev.lowmem.vmm.core.memory.ScatterList;
import dev.lowmem.vmm.core.nativeio.IovecArray;
import dev.lowmem.vmm.core.pool.PacketBuffer;
import dev.lowmem.vmm.core.pool.PacketPool;
import dev.lowmem.vmm.core.pool.PoolUser;
import java.io.IOException;
import java.lang.foreign.Arena;

/**
 * The frames RX took from the port while the guest's ring was empty, held in packet-pool buffers
 * until the guest posts room (docs/LOW-MEMORY.md, "What the back-end does"). A guest short of
 * memory refills its ring late; without a backlog, every frame that arrives meanwhile waits in
 * the port, and a TAP's kernel queue of a few hundred frames overflows into drops that TCP pays
 * for with retransmits and a collapsed window. The backlog is bounded (frames and buffers), and
 * when the pool has no buffer it stops taking: the port keeps the rest (back-pressure).
 *
 * <p>A flood that outlasts the backlog (it fills) is left to the port: until the port next runs
 * dry while RX reads it into the guest, the backlog takes nothing more, the held frames go to
 * the guest first and then RX reads the port straight into the guest's buffers again. Holding
 * every frame of a sustained flood would copy each twice (port to pool, pool to guest) where the
 * guest's own buffers take it with one read: about 40% of the rate (docs/LOW-MEMORY.md, "The
 * back-end short of memory"). The backlog is for the short starvations of a guest that refills
 * late; a port that ran dry says the guest caught up, and the next starvation is such a one.
 *
 * <p>A port that {@linkplain PortReceiver#waitsWithoutLoss() waits without loss} needs no backlog:
 * then this holds nothing and draws nothing from the pool.
 *
 * <p>To RX it is the port: {@link #nextFrameLength()} and {@link #receive} give the held frames
 * first, in order, then the port's own. Worker thread only, like the port queue it wraps.
 */
final class RxBacklog implements PortReceiver {
    /** The most frames held: a TAP's own queue is 500 to 1000. */
    static final int MAX_FRAMES = 256;
    /** The most buffers held: 2 MiB of 2 KiB buffers, about 30 frames of 64 KiB or 256 of 1500 B. */
    static final int MAX_BUFFERS = 1024;

    private final PortReceiver port;
    private final PacketPool pool;
    private final String userName;
    private final int bufferSize;
    private final QueuePairCounters counters;
    private final PacketBuffer[] buffers = new PacketBuffer[MAX_BUFFERS];
    private final int[] frameBuffers = new int[MAX_FRAMES];
    private final long[] frameLengths = new long[MAX_FRAMES];
    private final ScatterList readPieces = new ScatterList(MAX_BUFFERS);
    private final IovecArray readIovecs;
    private final RxBuffers readInto;
    private PoolUser user;
    private int firstFrame;
    /** Volatile for {@link #backlog()}, which the stats read on their own thread. */
    private volatile int frames;
    private int firstBuffer;
    private int bufferCount;
    private boolean refused;
    /** The backlog filled: hold nothing until the port runs dry with the backlog empty. */
    private boolean flooded;

    RxBacklog(PortReceiver port, PacketPool pool, String userName, QueuePairCounters counters, Arena arena) {
        this.port = port;
        this.pool = pool;
        this.userName = userName;
        this.bufferSize = pool.config().bufferSize();
        this.counters = counters;
        this.readIovecs = new IovecArray(arena, MAX_BUFFERS);
        this.readInto = new RxBuffers(readPieces, readIovecs);
    }

    /**
     * The RX queue runs: draw on the pool from now (the pool fills its reserve for this user),
     * unless the port loses nothing by waiting.
     */
    void open() {
        if (user == null && !port.waitsWithoutLoss()) {
            user = pool.join(userName);
        }
    }

    /**
     * The RX queue stopped, or the device was reset: what was held for that driver, here and in
     * the port, is dropped and counted, and the buffers go back, so that a stopped device holds
     * no pool memory and a later driver gets nothing of an earlier one's traffic.
     */
    void close() {
        counters.add(NetCounter.RX_DROP_BACKLOG, frames + port.discard());
        if (user == null) {
            return;
        }
        while (frames > 0) {
            releaseFrame();
        }
        user.close();
        user = null;
        refused = false;
        flooded = false;
    }

    /** End of a poll cycle: buffers freed on other threads come home. */
    void drainReturns() {
        if (user != null) {
            user.drainReturns();
        }
    }

    /**
     * Whether a frame from the port could be held now: RX watches the port for it while starved.
     * A full backlog is {@link #flooded}, so the bounds need no check of their own.
     */
    boolean canHold() {
        return user != null && !refused && !flooded;
    }

    /** The guest's ring moved: the pool is asked again the next time RX starves. */
    void guestReceiving() {
        refused = false;
    }

    /**
     * Takes frames from the port into pool buffers while there is room for them, the pool gives
     * buffers and the port has frames.
     *
     * @param roomWanted the buffer space the largest frame needs, header included
     * @param most the most frames to take now: a burst, so TX gets its turn
     * @return the frames taken
     */
    int hold(long roomWanted, int most) {
        int held = 0;
        while (held < most && canHold()) {
            long next = port.nextFrameLength();
            if (next == 0) {
                break;
            }
            long room = next == UNKNOWN_LENGTH ? roomWanted : Math.min(next, roomWanted);
            int needed = (int) ((room + bufferSize - 1) / bufferSize);
            if (bufferCount + needed > MAX_BUFFERS) {
                filled();
                break;
            }
            if (!takeBuffers(needed)) {
                refused = true;
                counters.increment(NetCounter.RX_POOL_REFUSED);
                break;
            }
            long length = readFrame(needed);
            if (length <= 0) {
                releaseTail(needed);
                if (length == 0) {
                    break;
                }
                continue;
            }
            int kept = (int) ((length + bufferSize - 1) / bufferSize);
            releaseTail(needed - kept);
            int slot = (firstFrame + frames) % MAX_FRAMES;
            frameBuffers[slot] = kept;
            frameLengths[slot] = length;
            frames++;
            held++;
            counters.increment(NetCounter.RX_HELD);
            if (frames == MAX_FRAMES || bufferCount == MAX_BUFFERS) {
                filled();
            }
        }
        return held;
    }

    /** A flood outlasted the backlog: the port keeps the rest until it runs dry. */
    private void filled() {
        flooded = true;
        counters.increment(NetCounter.RX_BACKLOG_FULL);
    }

    /** The port had no frame for the guest: the flood, if there was one, is over. */
    private long portDrainedIfNone(long next) {
        if (next == 0) {
            flooded = false;
        }
        return next;
    }

    /** Takes {@code count} buffers onto the tail; all or none. */
    private boolean takeBuffers(int count) {
        for (int i = 0; i < count; i++) {
            PacketBuffer buffer = user.take();
            if (buffer == null) {
                releaseTail(i);
                return false;
            }
            buffers[(firstBuffer + bufferCount) % MAX_BUFFERS] = buffer;
            bufferCount++;
        }
        return true;
    }

    /** Gives the last {@code count} buffers of the tail back to the pool. */
    private void releaseTail(int count) {
        for (int i = 0; i < count; i++) {
            bufferCount--;
            int slot = (firstBuffer + bufferCount) % MAX_BUFFERS;
            buffers[slot].release();
            buffers[slot] = null;
        }
    }

    /**
     * Reads one frame into the {@code count} buffers at the tail.
     *
     * @return its length; 0 when the port had none or failed (counted); -1 when it was longer than the buffers (counted)
     */
    private long readFrame(int count) {
        readPieces.clear();
        readIovecs.clear();
        for (int i = bufferCount - count; i < bufferCount; i++) {
            PacketBuffer buffer = buffers[(firstBuffer + i) % MAX_BUFFERS];
            readPieces.add(buffer.segment());
            readIovecs.add(buffer.address(), buffer.capacity());
        }
        long length;
        try {
            length = port.receive(readInto);
        } catch (IOException e) {
            counters.increment(NetCounter.RX_DROP_PORT_ERROR);
            return 0;
        }
        if (length > readInto.capacity()) {
            counters.increment(NetCounter.RX_DROP_NO_ROOM);
            return -1;
        }
        return length;
    }

    @Override
    public long nextFrameLength() {
        return frames > 0 ? frameLengths[firstFrame] : portDrainedIfNone(port.nextFrameLength());
    }

    /** The oldest held frame, copied into the guest's buffers; else the port's next, read straight into them. */
    @Override
    public long receive(RxBuffers guest) throws IOException {
        if (frames == 0) {
            return portDrainedIfNone(port.receive(guest));
        }
        long length = frameLengths[firstFrame];
        long copied = 0;
        for (int i = 0; i < frameBuffers[firstFrame] && copied < length; i++) {
            PacketBuffer buffer = buffers[(firstBuffer + i) % MAX_BUFFERS];
            long chunk = Math.min(buffer.capacity(), length - copied);
            guest.copyFrom(buffer.segment(), 0, chunk, copied);
            copied += chunk;
        }
        releaseFrame();
        return length;
    }

    private void releaseFrame() {
        for (int i = 0; i < frameBuffers[firstFrame]; i++) {
            buffers[firstBuffer].release();
            buffers[firstBuffer] = null;
            firstBuffer = (firstBuffer + 1) % MAX_BUFFERS;
            bufferCount--;
        }
        firstFrame = (firstFrame + 1) % MAX_FRAMES;
        frames--;
    }

    @Override
    public boolean waitsWithoutLoss() {
        return port.waitsWithoutLoss();
    }

    @Override
    public int backlog() {
        return frames + port.backlog();
    }
}
