package io.flotilla.internal.thread;

import io.flotilla.BrokenPoolException;
import io.flotilla.SerializableFunction;
import io.flotilla.SerializableRunnable;
import io.flotilla.internal.map.ArrayOutcome;
import io.flotilla.internal.map.ChunkBackend;
import io.flotilla.internal.map.ChunkOutcome;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Runs chunks on threads of this JVM, with no serialization: the backend of {@code ThreadPool}.
 *
 * <p>A running chunk yields its unstarted items (see {@link ChunkBackend}) when a thread of the
 * pool is idle, or when its time slice is up, the same way worker JVMs do when asked.
 *
 * <p>Chunk lifecycle: NEW → RUNNING when a thread takes it, or NEW → CANCELLED when cancelled
 * first; the compare-and-set between the two is what makes "cancel succeeds only before it starts"
 * exact.
 *
 * <p>Initializer: each pool thread runs it once, in {@code beforeExecute} of its first chunk. When
 * it throws, the backend is broken for good: the chunk that thread was about to run, the chunks
 * queued and every later one end as failed outcomes carrying one {@link BrokenPoolException}, on
 * pool threads as usual, and no thread runs the initializer again. The threads themselves live on,
 * so the executor never replaces them in a loop.
 */
public final class ThreadBackend implements ChunkBackend {
  private static final int NEW = 0;
  private static final int RUNNING = 1;
  private static final int CANCELLED = 2;

  private static final JobRef CALL = new JobRef() {};

  /** How long a chunk runs before it hands its unstarted items to an idle thread. */
  static final long MIN_RUN_BEFORE_YIELD_NANOS = 1_000_000;

  /** Longest a chunk runs before it hands back what it has done, so results and progress flow. */
  static final long TIME_SLICE_NANOS = 100_000_000;

  private final ThreadPoolExecutor executor;
  private final int threads;
  private final SerializableRunnable initializer;
  private final AtomicReference<BrokenPoolException> broken = new AtomicReference<>();
  private volatile Consumer<BrokenPoolException> onBroken = b -> {};

  /**
   * @param threads the number of threads, at least 1
   */
  public ThreadBackend(int threads) {
    this(threads, "flotilla-thread", null);
  }

  /**
   * @param threads the number of threads, at least 1
   * @param namePrefix threads are named this, a dash and their number from 1
   * @param initializer run once by each thread before its first chunk, or {@code null}
   */
  public ThreadBackend(int threads, String namePrefix, SerializableRunnable initializer) {
    this.threads = threads;
    this.initializer = initializer;
    AtomicInteger n = new AtomicInteger();
    this.executor =
        new ThreadPoolExecutor(
            threads,
            threads,
            0,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            r -> {
              Thread t = new PoolThread(r, namePrefix + "-" + n.incrementAndGet());
              // Daemon, like the common ForkJoinPool: a pool that is never closed must not keep the
              // JVM
              // alive. close() still waits for every accepted task.
              t.setDaemon(true);
              return t;
            }) {
          @Override
          protected void beforeExecute(Thread t, Runnable r) {
            initialize((PoolThread) t);
          }
        };
  }

  /** A pool thread, which knows whether it has run the initializer. */
  private static final class PoolThread extends Thread {
    /** Read and written only by this thread. */
    boolean initialized;

    PoolThread(Runnable r, String name) {
      super(r, name);
    }
  }

  /**
   * @param listener told once, on the pool thread whose initializer failed, before any chunk fails
   *     because of it; set before the first chunk runs
   */
  public void onBroken(Consumer<BrokenPoolException> listener) {
    this.onBroken = listener;
  }

  private void initialize(PoolThread self) {
    if (initializer == null || self.initialized || broken.get() != null) {
      return;
    }
    self.initialized = true;
    try {
      initializer.run();
    } catch (Throwable e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      BrokenPoolException cause =
          new BrokenPoolException(
              "the initializer failed in thread " + self.getName() + ": " + e, e);
      if (!broken.compareAndSet(null, cause)) {
        return;
      }
      onBroken.accept(cause);
      // Queued chunks would each wait for a thread only to fail: fail them now. Chunks that slip
      // past
      // the drain fail when a thread takes them.
      List<Runnable> queued = new ArrayList<>();
      executor.getQueue().drainTo(queued);
      for (Runnable r : queued) {
        ((ThreadChunk) r).failIfNotStarted(cause);
      }
    }
  }

  private record FunctionJob(SerializableFunction<Object, Object> fn) implements JobRef {}

  @Override
  @SuppressWarnings("unchecked")
  public JobRef openJob(SerializableFunction<?, ?> fn) {
    return new FunctionJob((SerializableFunction<Object, Object>) fn);
  }

  @Override
  public JobRef callJob() {
    return CALL;
  }

  @Override
  public ChunkTicket run(
      JobRef job, long firstIndex, List<?> items, Start start, Consumer<ChunkOutcome> done) {
    ThreadChunk chunk = new ThreadChunk(job, items, done);
    executor.execute(chunk);
    return chunk;
  }

  @Override
  public void closeJob(JobRef job) {
    // Nothing is held per job: the function lives in the chunks themselves.
  }

  @Override
  public int parallelism() {
    return threads;
  }

  /** Stops the threads; they are idle by the time the pool calls this. */
  public void stop() {
    executor.shutdown();
  }

  /**
   * @param timeout how long to wait
   * @param unit its unit
   * @return whether every thread has ended
   * @throws InterruptedException if interrupted while waiting
   */
  public boolean awaitStopped(long timeout, TimeUnit unit) throws InterruptedException {
    return executor.awaitTermination(timeout, unit);
  }

  private final class ThreadChunk implements Runnable, ChunkTicket {
    private final AtomicInteger state = new AtomicInteger(NEW);
    private final JobRef job;
    private final List<?> items;
    private final Consumer<ChunkOutcome> done;

    ThreadChunk(JobRef job, List<?> items, Consumer<ChunkOutcome> done) {
      this.job = job;
      this.items = items;
      this.done = done;
    }

    /** A thread cannot be stopped safely: only a chunk that has not started can be aborted. */
    @Override
    public boolean abort() {
      return cancelIfNotStarted();
    }

    @Override
    public boolean cancelIfNotStarted() {
      if (state.compareAndSet(NEW, CANCELLED)) {
        executor.remove(this);
        return true;
      }
      return false;
    }

    void failIfNotStarted(BrokenPoolException cause) {
      if (state.compareAndSet(NEW, RUNNING)) {
        done.accept(ChunkOutcome.failed(items.size(), cause));
      }
    }

    @Override
    public void run() {
      if (!state.compareAndSet(NEW, RUNNING)) {
        return;
      }
      BrokenPoolException cause = broken.get();
      if (cause != null) {
        done.accept(ChunkOutcome.failed(items.size(), cause));
        return;
      }
      int n = items.size();
      Object[] values = new Object[n];
      Throwable[] errors = null;
      long start = System.nanoTime();
      long nextIdleCheck = start + MIN_RUN_BEFORE_YIELD_NANOS;
      int processed = n;
      for (int i = 0; i < n; i++) {
        if (i > 0 && job instanceof FunctionJob) {
          long now = System.nanoTime();
          if (now - start >= TIME_SLICE_NANOS) {
            processed = i;
            break;
          }
          // Looking for idle threads takes the executor's lock: at most once a millisecond.
          if (now >= nextIdleCheck) {
            nextIdleCheck = now + MIN_RUN_BEFORE_YIELD_NANOS;
            if (executor.getQueue().isEmpty() && executor.getActiveCount() < threads) {
              processed = i;
              break;
            }
          }
        }
        try {
          Object item = items.get(i);
          values[i] =
              job instanceof FunctionJob f ? f.fn().apply(item) : ((Callable<?>) item).call();
        } catch (Throwable e) {
          if (errors == null) {
            errors = new Throwable[n];
          }
          errors[i] = e;
        }
      }
      if (processed < n) {
        values = java.util.Arrays.copyOf(values, processed);
        errors = errors == null ? null : java.util.Arrays.copyOf(errors, processed);
      }
      done.accept(new ArrayOutcome(values, errors, System.nanoTime() - start));
    }
  }
}
