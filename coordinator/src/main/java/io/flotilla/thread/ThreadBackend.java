package io.flotilla.thread;

import io.flotilla.SerializableFunction;
import io.flotilla.map.ArrayOutcome;
import io.flotilla.map.ChunkBackend;
import io.flotilla.map.ChunkOutcome;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Runs chunks on threads of this JVM, with no serialization: the backend of {@code ThreadPool}.
 *
 * <p>A running chunk yields its unstarted items (see {@link ChunkBackend}) when a thread of the pool is
 * idle, or when its time slice is up, the same way worker JVMs do when asked.
 *
 * <p>Chunk lifecycle: NEW → RUNNING when a thread takes it, or NEW → CANCELLED when cancelled first;
 * the compare-and-set between the two is what makes "cancel succeeds only before it starts" exact.
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

  /** @param threads the number of threads, at least 1 */
  public ThreadBackend(int threads) {
    this.threads = threads;
    AtomicInteger n = new AtomicInteger();
    this.executor =
        new ThreadPoolExecutor(
            threads,
            threads,
            0,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            r -> {
              Thread t = new Thread(r, "flotilla-thread-" + n.incrementAndGet());
              // Daemon, like the common ForkJoinPool: a pool that is never closed must not keep the JVM
              // alive. close() still waits for every accepted task.
              t.setDaemon(true);
              return t;
            });
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

    @Override
    public void run() {
      if (!state.compareAndSet(NEW, RUNNING)) {
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
