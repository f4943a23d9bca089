package io.flotilla.bench;

import io.flotilla.ProcessPool;
import io.flotilla.SerializableCallable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Waits, before any clock starts, until every worker JVM of a pool has run a task. */
public final class WorkersReady {
  private WorkersReady() {}

  /**
   * Rounds of short sleeping tasks, one per worker thread, until each worker's pid has answered: a
   * single task would return as soon as the first worker is up, and the others would still be
   * starting when the clock starts.
   *
   * @param pool the pool
   * @param timeoutSeconds how long its workers may take to start
   * @throws TimeoutException if they take longer, saying how many answered
   * @throws Exception if a task fails or the wait is interrupted
   */
  public static void await(ProcessPool pool, long timeoutSeconds) throws Exception {
    // A short sleep in each task keeps a ready worker from taking the whole round.
    SerializableCallable<Long> pid =
        () -> {
          Thread.sleep(50);
          return ProcessHandle.current().pid();
        };
    Set<Long> answered = new HashSet<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    while (answered.size() < pool.workers()) {
      if (System.nanoTime() > deadline) {
        throw new TimeoutException(
            answered.size()
                + " of "
                + pool.workers()
                + " worker JVMs started in "
                + timeoutSeconds
                + " s");
      }
      List<CompletableFuture<Long>> round = new ArrayList<>();
      for (int i = 0; i < pool.parallelism(); i++) {
        round.add(pool.submit(pid));
      }
      for (CompletableFuture<Long> f : round) {
        answered.add(f.get());
      }
    }
  }
}
