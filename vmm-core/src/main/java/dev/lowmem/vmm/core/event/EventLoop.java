package dev.lowmem.vmm.core.event;

import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.LibC;
import dev.lowmem.vmm.core.nativeio.NativeIoException;

import java.lang.foreign.Arena;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.IntConsumer;

/**
 * The control plane's thread: one epoll set dispatching readiness to handlers (listening sockets,
 * frontend connections), plus a queue of tasks other threads hand it. Handlers and tasks run on
 * this thread only, so the state they share needs no lock.
 *
 * <p>A handler that throws is logged and its fd removed from the loop, so one misbehaving peer
 * can neither stop the loop nor make it spin on an fd that stays ready; the loop keeps serving
 * the others. A registered fd that is closed without being unregistered leaves the epoll set as
 * it closes (epoll itself would keep it while any copy of the file, QEMU's for one, stays open).
 */
public final class EventLoop implements AutoCloseable {
    /** Reacts to readiness of a registered fd; {@code readyEvents} is the epoll mask. */
    @FunctionalInterface
    public interface Handler {
        void onReady(int readyEvents) throws Exception;
    }

    private static final System.Logger LOG = System.getLogger(EventLoop.class.getName());
    private static final long WAKEUP_TOKEN = 0;
    private static final int EVENTS_PER_WAIT = 64;

    private final Arena arena;
    private final Epoll epoll;
    private final EpollEvents ready;
    private final EventFd wakeup;
    /**
     * Registrations by the token epoll returns. Tokens are never reused, so an event that was
     * already queued for a registration now gone cannot reach a newer one.
     */
    private final Map<Long, Registration> byToken = new HashMap<>();
    private final Map<FileDescriptor, Registration> byFd = new IdentityHashMap<>();
    private long lastToken = WAKEUP_TOKEN;
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    /** Guards {@code running} becoming false and the release of the loop's fds. */
    private final Object lifecycle = new Object();
    private volatile boolean running = true;

    private EventLoop(String name, Arena arena, Epoll epoll, EventFd wakeup) {
        this.arena = arena;
        this.epoll = epoll;
        this.wakeup = wakeup;
        this.ready = new EpollEvents(arena, EVENTS_PER_WAIT);
        this.thread = Thread.ofPlatform().name(name).unstarted(this::run);
    }

    /** Creates the loop and starts its thread. */
    public static EventLoop start(String name) throws NativeIoException {
        Arena arena = Arena.ofShared();
        Epoll epoll = null;
        EventFd wakeup = null;
        try {
            epoll = Epoll.create();
            wakeup = EventFd.create();
            epoll.add(wakeup.fd(), LibC.EPOLLIN, WAKEUP_TOKEN);
        } catch (NativeIoException e) {
            if (epoll != null) {
                epoll.close();
            }
            if (wakeup != null) {
                wakeup.close();
            }
            arena.close();
            throw e;
        }
        EventLoop loop = new EventLoop(name, arena, epoll, wakeup);
        loop.thread.start();
        return loop;
    }

    /** Runs {@code task} on the loop thread, soon. Callable from any thread. */
    public void execute(Runnable task) {
        synchronized (lifecycle) {
            if (!running) {
                throw new RejectedExecutionException("event loop " + thread.getName() + " is closed");
            }
            tasks.add(task);
            wakeUp();
        }
    }

    /**
     * Runs {@code task} on the loop thread; the future completes with its result or its exception,
     * or with a {@link RejectedExecutionException} if the loop stops before running it.
     */
    public <T> CompletableFuture<T> submit(Callable<T> task) {
        Submission<T> submission = new Submission<>(task);
        execute(submission);
        return submission.result;
    }

    /** A task whose caller waits on a future: one the loop never runs still completes it. */
    private record Submission<T>(Callable<T> task, CompletableFuture<T> result) implements Runnable {
        Submission(Callable<T> task) {
            this(task, new CompletableFuture<>());
        }

        @Override
        public void run() {
            try {
                result.complete(task.call());
            } catch (Exception e) {
                result.completeExceptionally(e);
            }
        }
    }

    /** A watched fd. As its action before close, it takes the fd out of the set whoever closes it. */
    private final class Registration implements IntConsumer {
        final long token;
        final FileDescriptor fd;
        final Handler handler;

        Registration(long token, FileDescriptor fd, Handler handler) {
            this.token = token;
            this.fd = fd;
            this.handler = handler;
        }

        /** Runs on the closing thread while {@code number} still names the file. */
        @Override
        public void accept(int number) {
            epoll.removeQuietly(number);
            try {
                execute(() -> forget(this));
            } catch (RejectedExecutionException loopClosed) {
                // Nothing left to forget.
            }
        }
    }

    /**
     * Calls {@code handler} on the loop thread whenever {@code fd} is ready for {@code events},
     * until {@link #unregister} or the fd is closed. Loop thread only.
     */
    public void register(FileDescriptor fd, int events, Handler handler) throws NativeIoException {
        requireLoopThread();
        if (byFd.containsKey(fd)) {
            throw new IllegalStateException(fd + " is already registered with " + thread.getName());
        }
        Registration registration = new Registration(++lastToken, fd, handler);
        fd.setBeforeClose(registration);
        try {
            epoll.add(fd, events, registration.token);
        } catch (NativeIoException | RuntimeException e) {
            fd.clearBeforeClose(registration);
            throw e;
        }
        byToken.put(registration.token, registration);
        byFd.put(fd, registration);
    }

    /** Stops watching {@code fd}. Loop thread only. */
    public void unregister(FileDescriptor fd) {
        requireLoopThread();
        Registration registration = byFd.get(fd);
        if (registration != null) {
            forget(registration);
            if (fd.isOpen()) {
                epoll.removeQuietly(fd.intValue());
            }
        }
    }

    private void forget(Registration registration) {
        byToken.remove(registration.token);
        byFd.remove(registration.fd);
        registration.fd.clearBeforeClose(registration);
    }

    public boolean inLoop() {
        return Thread.currentThread() == thread;
    }

    private void requireLoopThread() {
        if (!inLoop()) {
            throw new IllegalStateException("called from " + Thread.currentThread().getName()
                    + "; only " + thread.getName() + " may change its registrations");
        }
    }

    private void run() {
        try {
            while (running) {
                int count = epoll.wait(ready, -1);
                for (int i = 0; i < count; i++) {
                    dispatch(ready.token(i), ready.events(i));
                }
                runTasks();
            }
        } catch (NativeIoException | RuntimeException | Error e) {
            LOG.log(System.Logger.Level.ERROR, "event loop " + thread.getName() + " stopped", e);
        } finally {
            // The fds stay their owners'; closing them later has nothing of this loop's to undo.
            byFd.values().forEach(registration -> registration.fd.clearBeforeClose(registration));
            synchronized (lifecycle) {
                running = false;
                epoll.close();
                wakeup.close();
                arena.close();
            }
            rejectPendingTasks();
        }
    }

    private void dispatch(long token, int events) throws NativeIoException {
        if (token == WAKEUP_TOKEN) {
            wakeup.read();
            return;
        }
        // Gone when an earlier handler of this batch unregistered or closed this fd.
        Registration registration = byToken.get(token);
        if (registration == null || !registration.fd.isOpen()) {
            return;
        }
        try {
            registration.handler.onReady(events);
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "handler for " + registration.fd + " failed; removed from "
                    + thread.getName(), e);
            unregister(registration.fd);
        }
    }

    private void runTasks() {
        Runnable task;
        while (running && (task = tasks.poll()) != null) {
            try {
                task.run();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "task on " + thread.getName() + " failed", e);
            }
        }
    }

    /** No task is accepted once {@code running} is false, so this empties the queue for good. */
    private void rejectPendingTasks() {
        Runnable task;
        while ((task = tasks.poll()) != null) {
            if (task instanceof Submission<?> submission) {
                submission.result().completeExceptionally(
                        new RejectedExecutionException("event loop " + thread.getName() + " stopped first"));
            }
        }
    }

    /** Stops the loop and waits for its thread; from a handler or task it only asks the loop to stop. */
    @Override
    public void close() throws InterruptedException {
        synchronized (lifecycle) {
            if (running) {
                running = false;
                wakeUp();
            }
        }
        if (!inLoop()) {
            thread.join();
        }
    }

    /**
     * Called with {@code lifecycle} held: the loop thread closes the eventfd under the same lock,
     * so a wake-up never writes to a number the kernel has since given to another file.
     */
    private void wakeUp() {
        try {
            wakeup.signal();
        } catch (NativeIoException e) {
            throw new IllegalStateException("cannot wake " + thread.getName(), e);
        }
    }
}
