package io.flotilla.bench;

import io.flotilla.PoolExecutor;
import io.flotilla.ProcessPool;
import io.flotilla.ThreadPool;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The pools of one benchmark run, created on first use and ready before they are returned: every
 * worker JVM has started and answered, so no clock ever includes pool start-up (the {@code startup}
 * workload measures that separately, in a fresh JVM).
 *
 * <p>The default pools, {@code N} threads and {@code N} single-threaded worker JVMs, live for the
 * whole run; others (the download's wider pools) until {@link #closeExtras()}. Used by one thread
 * at a time.
 */
final class Pools implements AutoCloseable {
  /** Long enough for a loaded 2-core machine to start a handful of JVMs. */
  private static final long READY_TIMEOUT_SECONDS = 120;

  private final int workers;
  private final Map<String, PoolExecutor> defaults = new LinkedHashMap<>();
  private final Map<String, PoolExecutor> extras = new LinkedHashMap<>();

  /**
   * @param workers N: threads of the default thread pool, worker JVMs of every process pool
   */
  Pools(int workers) {
    this.workers = workers;
  }

  /**
   * @return the default thread pool, of N threads
   */
  ThreadPool threads() {
    return threads(workers);
  }

  /**
   * @return a thread pool of that many threads
   */
  ThreadPool threads(int threads) {
    Map<String, PoolExecutor> home = threads == workers ? defaults : extras;
    return (ThreadPool)
        home.computeIfAbsent(
            "threads:" + threads,
            k -> {
              ThreadPool pool = ThreadPool.of(threads);
              pool.submit(() -> 1).join();
              return pool;
            });
  }

  /**
   * @return the default process pool: N worker JVMs of one thread each
   */
  ProcessPool processes() {
    return processes(1);
  }

  /**
   * @return a pool of N worker JVMs with that many threads each
   */
  ProcessPool processes(int threadsPerWorker) {
    Map<String, PoolExecutor> home = threadsPerWorker == 1 ? defaults : extras;
    return (ProcessPool)
        home.computeIfAbsent(
            "processes:" + threadsPerWorker,
            k ->
                ready(
                    ProcessPool.builder()
                        .workers(workers)
                        .threadsPerWorker(threadsPerWorker)
                        .build()));
  }

  /**
   * Waits until every worker JVM has run a task. Rounds of short sleeping tasks, one per worker
   * thread, until each worker's pid has answered: a single task would return as soon as the first
   * worker is up, and the others would still be starting when the clock starts.
   */
  private ProcessPool ready(ProcessPool pool) {
    try {
      WorkersReady.await(pool, READY_TIMEOUT_SECONDS);
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      pool.shutdownNow();
      throw new IllegalStateException("the benchmark's " + pool + " did not start: " + e, e);
    }
    return pool;
  }

  /** Closes the pools other than the two defaults. */
  void closeExtras() {
    extras.values().forEach(PoolExecutor::close);
    extras.clear();
  }

  @Override
  public void close() {
    closeExtras();
    defaults.values().forEach(PoolExecutor::close);
    defaults.clear();
  }
}
