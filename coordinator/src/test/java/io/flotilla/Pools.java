package io.flotilla;

import static org.awaitility.Awaitility.await;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/**
 * Starting, readying and stopping pools in tests. Every pool a test starts is tracked here, so that
 * {@link HangGuard} can kill its workers when a test hangs and the build never leaves processes
 * behind.
 */
final class Pools {
  private static final Set<PoolExecutor> LIVE = ConcurrentHashMap.newKeySet();

  private Pools() {}

  static <P extends PoolExecutor> P track(P pool) {
    LIVE.add(pool);
    return pool;
  }

  /**
   * @return a tracked two-worker process pool with the given options
   */
  static ProcessPool process(ProcessPool.Builder builder) {
    return track(builder.build());
  }

  /**
   * Returns once every worker has run a task. Then the pool is idle and every worker holds its full
   * credit, so the next {@code workers} chunks submitted go one to each worker (the scheduler gives
   * work to the worker with the most credit).
   */
  static void awaitAllWorkersReady(PoolExecutor pool) {
    if (pool instanceof ThreadPool) {
      return;
    }
    PoolExecutor p = pool;
    await("all " + p.workers() + " workers to run a task")
        .atMost(TestTime.LONG)
        .until(
            () -> {
              List<CompletableFuture<Long>> probes =
                  IntStream.range(0, p.workers())
                      .mapToObj(i -> p.submit(() -> ProcessHandle.current().pid()))
                      .toList();
              Set<Long> pids = new HashSet<>();
              for (CompletableFuture<Long> f : probes) {
                pids.add(f.get(TestTime.LONG.toMillis(), TimeUnit.MILLISECONDS));
              }
              return pids.size() == p.workers();
            });
  }

  /**
   * Stops a pool without ever blocking for good: cancels what has not started, waits a bounded
   * time, then kills what is left.
   *
   * @throws AssertionError if the pool does not terminate even then
   */
  static void shutDown(PoolExecutor pool) throws InterruptedException {
    if (pool == null) {
      return;
    }
    try {
      pool.shutdown(false, true);
      if (!pool.awaitTermination(TestTime.LONG.toMillis(), TimeUnit.MILLISECONDS)) {
        killWorkers(pool);
        if (!pool.awaitTermination(TestTime.LONG.toMillis(), TimeUnit.MILLISECONDS)) {
          throw new AssertionError(pool + " did not terminate, even after its workers were killed");
        }
      }
    } finally {
      LIVE.remove(pool);
    }
  }

  /** Kills the worker processes of every tracked pool: the last resort when a test hangs. */
  static void killAllWorkers() {
    LIVE.forEach(Pools::killWorkers);
  }

  private static void killWorkers(PoolExecutor pool) {
    if (pool instanceof ProcessPool p) {
      p.workerPids().forEach(Processes::kill);
    }
  }
}
