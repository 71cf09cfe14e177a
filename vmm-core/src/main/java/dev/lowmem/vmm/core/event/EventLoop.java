package dev.lowmem.vmm.core.event;

import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import dev.lowmem.vmm.core.nativeio.LibC;
import dev.lowmem.vmm.core.nativeio.NativeIoException;

import java.lang.foreign.Arena;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;

/**
 * The control plane's thread: one epoll set dispatching readiness to handlers (listening sockets,
 * frontend connections), plus a queue of tasks other threads hand it. Handlers and tasks run on
 * this thread only, so the state they share needs no lock.
 *
 * <p>A handler that throws is logged and its fd removed from the loop, so one misbehaving peer
 * can neither stop the loop nor make it spin on an fd that stays ready; the loop keeps serving
 * the others.
 */
public final class EventLoop implements AutoCloseable {
    /** Reacts to readiness of a registered fd; {@code readyEvents} is the epoll mask. */
    @FunctionalInterface
    public interface Handler {
        void onReady(int readyEvents) throws Exception;
    }

    private record Registration(FileDescriptor fd, Handler handler) {
    }

    private static final System.Logger LOG = System.getLogger(EventLoop.class.getName());
    private static final long WAKEUP_TOKEN = -1;
    private static final int EVENTS_PER_WAIT = 64;

    private final Arena arena = Arena.ofShared();
    private final Epoll epoll;
    private final EpollEvents ready;
    private final EventFd wakeup;
    private final Map<Integer, Registration> registrations = new HashMap<>();
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    /** Guards {@code running} becoming false and the release of the loop's fds. */
    private final Object lifecycle = new Object();
    private volatile boolean running = true;

    private EventLoop(String name, Epoll epoll, EventFd wakeup) throws NativeIoException {
        this.epoll = epoll;
        this.wakeup = wakeup;
        this.ready = new EpollEvents(arena, EVENTS_PER_WAIT);
        epoll.add(wakeup.fd(), LibC.EPOLLIN, WAKEUP_TOKEN);
        this.thread = Thread.ofPlatform().name(name).unstarted(this::run);
    }

    /** Creates the loop and starts its thread. */
    public static EventLoop start(String name) throws NativeIoException {
        Epoll epoll = Epoll.create();
        EventFd wakeup;
        try {
            wakeup = EventFd.create();
        } catch (NativeIoException e) {
            epoll.close();
            throw e;
        }
        EventLoop loop = new EventLoop(name, epoll, wakeup);
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

    /** Calls {@code handler} on the loop thread whenever {@code fd} is ready for {@code events}. Loop thread only. */
    public void register(FileDescriptor fd, int events, Handler handler) throws NativeIoException {
        requireLoopThread();
        int number = fd.intValue();
        Registration existing = registrations.get(number);
        // A registration whose fd was closed without unregistering is stale: the kernel dropped
        // the fd from the epoll set, and the number now names this new file.
        if (existing != null && existing.fd().isOpen()) {
            throw new IllegalStateException(fd + " is already registered with " + thread.getName());
        }
        epoll.add(fd, events, number);
        registrations.put(number, new Registration(fd, handler));
    }

    /** Stops watching {@code fd}; call before closing it. Loop thread only. */
    public void unregister(FileDescriptor fd) throws NativeIoException {
        requireLoopThread();
        if (registrations.remove(fd.intValue()) != null) {
            epoll.remove(fd);
        }
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
            synchronized (lifecycle) {
                running = false;
                epoll.close();
                wakeup.close();
                arena.close();
            }
            rejectPendingTasks();
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

    private void dispatch(long token, int events) throws NativeIoException {
        if (token == WAKEUP_TOKEN) {
            wakeup.read();
            return;
        }
        // An earlier handler of this batch may have unregistered this fd.
        Registration registration = registrations.get((int) token);
        if (registration == null) {
            return;
        }
        try {
            registration.handler().onReady(events);
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "handler for " + registration.fd() + " failed; removed from "
                    + thread.getName(), e);
            registrations.remove((int) token);
            removeQuietly(registration.fd());
        }
    }

    /** The handler may have closed its fd already, which removed it from the set. */
    private void removeQuietly(FileDescriptor fd) {
        if (!fd.isOpen()) {
            return;
        }
        try {
            epoll.remove(fd);
        } catch (NativeIoException e) {
            LOG.log(System.Logger.Level.DEBUG, "removing " + fd + " from " + thread.getName() + ": " + e.getMessage());
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
