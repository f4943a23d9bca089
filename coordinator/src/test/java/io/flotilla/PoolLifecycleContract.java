package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Cancellation, shutdown and termination, which need a pool of their own per test: each test ends
 * by closing its pool, because {@code close()} waits for every task that was accepted and not
 * cancelled, and only after it returns can the test say that a cancelled task <em>never</em> ran
 * (it would have created its marker file).
 *
 * <p>A process worker holds chunks it has been sent but not started ({@link #heldPerWorker()}). A
 * task's cancel, and shutdown's, takes such a chunk back, so a task that has not started can always
 * be cancelled; a map closed early or timed out does not wait for workers, and counts them as
 * started.
 */
abstract class PoolLifecycleContract extends PoolTestBase {
  private PoolExecutor pool;

  /**
   * @return a new pool of two workers (or threads)
   */
  abstract PoolExecutor newPool();

  /**
   * @return chunks a worker holds, sent but not started, beside the one it runs
   */
  abstract int heldPerWorker();

  /**
   * @return the processes behind the pool, none for threads
   */
  abstract List<Long> workerPids(PoolExecutor pool);

  @AfterEach
  void stopPool() throws InterruptedException {
    signals.openAll();
    Pools.shutDown(pool);
  }

  private PoolExecutor start() {
    pool = Pools.track(newPool());
    Pools.awaitAllWorkersReady(pool);
    return pool;
  }

  private static <T> T get(Future<T> f) throws Exception {
    return f.get(TestTime.LONG.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Occupies every worker with a task that waits at {@code hold}; returns once all have started.
   */
  private List<CompletableFuture<Integer>> occupyAll(String hold) {
    List<CompletableFuture<Integer>> blockers = new ArrayList<>();
    for (int k = 0; k < pool.parallelism(); k++) {
      int value = 100 + k;
      String started = signals.marker("blocker-" + k);
      blockers.add(
          pool.submit(
              () -> {
                Signals.touch(started);
                Signals.await(hold);
                return value;
              }));
    }
    for (int k = 0; k < pool.parallelism(); k++) {
      signals.awaitMarker(signals.marker("blocker-" + k));
    }
    return blockers;
  }

  /** A task that leaves {@code ran-<k>} behind when it runs. */
  private CompletableFuture<Integer> marked(int k) {
    String ran = signals.marker("ran-" + k);
    return pool.submit(
        () -> {
          Signals.touch(ran);
          return k;
        });
  }

  /**
   * @return the items whose {@code ran-} marker exists
   */
  private List<Integer> ran() {
    return signals.list("ran-").stream()
        .map(n -> Integer.parseInt(n.substring(4)))
        .sorted()
        .toList();
  }

  // ================================================================ cancel

  @Test
  void cancelOfAPendingTaskSucceedsAndTheTaskNeverRuns() throws Exception {
    start();
    String hold = signals.gate("hold");
    List<CompletableFuture<Integer>> blockers = occupyAll(hold);
    List<CompletableFuture<Integer>> queued = new ArrayList<>();
    for (int k = 0; k < 2 * pool.parallelism(); k++) {
      queued.add(marked(k));
    }
    CompletableFuture<Integer> target = marked(99);

    assertThat(target.cancel(false)).as("cancel of a task that has not started").isTrue();
    assertThat(target).isCancelled();
    assertThat(target.cancel(false)).as("cancelling again").isTrue();
    assertThatThrownBy(() -> get(target)).isInstanceOf(CancellationException.class);

    signals.open(hold);
    pool.close(); // waits for everything accepted and not cancelled
    assertThat(pool.isTerminated()).isTrue();
    for (CompletableFuture<Integer> f : blockers) {
      assertThat(f).isCompleted();
    }
    for (int k = 0; k < queued.size(); k++) {
      assertThat(queued.get(k)).isCompletedWithValue(k);
    }
    assertThat(ran()).as("tasks that ran").doesNotContain(99).hasSize(queued.size());
  }

  @Test
  void aTaskWaitingInABusyWorkersQueueCanBeCancelledAndNeverRuns() throws Exception {
    start();
    String hold = signals.gate("hold");
    List<CompletableFuture<Integer>> blockers = occupyAll(hold);
    // The first tasks after the blockers are handed to the workers at once, to wait behind them.
    List<CompletableFuture<Integer>> waiting = new ArrayList<>();
    for (int k = 0; k < Math.max(1, heldPerWorker() * pool.workers()); k++) {
      waiting.add(marked(k));
    }
    for (CompletableFuture<Integer> f : waiting) {
      assertThat(f.cancel(false)).as("cancel of a task that has not started").isTrue();
      assertThat(f).isCancelled();
    }

    signals.open(hold);
    pool.close();
    for (CompletableFuture<Integer> f : blockers) {
      assertThat(f).isCompleted();
    }
    assertThat(ran()).as("cancelled tasks that ran").isEmpty();
  }

  // ================================================================ shutdown

  @Test
  void shutdownWithCancelFuturesCancelsOnlyTasksNotStarted() throws Exception {
    start();
    String hold = signals.gate("hold");
    List<CompletableFuture<Integer>> running = occupyAll(hold);
    int n = 3 * pool.parallelism();
    List<CompletableFuture<Integer>> pending = new ArrayList<>();
    for (int k = 0; k < n; k++) {
      pending.add(marked(k));
    }

    pool.shutdown(false, true); // returns at once: the running tasks are still held
    assertThat(pool.isShutdown()).isTrue();
    assertThat(pool.isTerminated()).isFalse();
    assertThat(running).noneMatch(Future::isCancelled).noneMatch(Future::isDone);
    assertThat(pending)
        .as("every task not started is cancelled, those waiting in a worker's queue too")
        .allMatch(Future::isCancelled);

    signals.open(hold);
    assertThat(pool.awaitTermination(TestTime.LONG.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
    for (int k = 0; k < running.size(); k++) {
      assertThat(get(running.get(k))).isEqualTo(100 + k);
    }
    List<Integer> ran = ran();
    for (int k = 0; k < n; k++) {
      if (pending.get(k).isCancelled()) {
        assertThat(ran).as("cancelled task %d ran", k).doesNotContain(k);
      } else {
        assertThat(pending.get(k)).isCompletedWithValue(k);
      }
    }
  }

  @Test
  void submitAfterShutdownIsRejected() throws Exception {
    pool = Pools.track(newPool());
    pool.shutdown();
    assertThat(pool.isShutdown()).isTrue();
    assertThatThrownBy(() -> pool.submit(() -> 1))
        .isInstanceOf(RejectedExecutionException.class)
        .isNotInstanceOf(BrokenPoolException.class)
        .hasMessageContaining("shut down");
    assertThatThrownBy(() -> pool.submit((Integer x) -> x, 1))
        .isInstanceOf(RejectedExecutionException.class);
    assertThatThrownBy(() -> pool.submit((Runnable & Serializable) () -> {}))
        .isInstanceOf(RejectedExecutionException.class);
    assertThatThrownBy(() -> pool.execute((Runnable & Serializable) () -> {}))
        .isInstanceOf(RejectedExecutionException.class);
    assertThatThrownBy(() -> pool.map((Integer x) -> x, List.of(1, 2)))
        .isInstanceOf(RejectedExecutionException.class);
    assertThatThrownBy(() -> pool.mapUnordered((Integer x) -> x, List.of(1, 2)))
        .isInstanceOf(RejectedExecutionException.class);
    assertThatThrownBy(
            () ->
                pool.invokeAll(List.<Callable<Integer>>of((SerializableCallable<Integer>) () -> 1)))
        .isInstanceOf(RejectedExecutionException.class);
    assertThat(pool.awaitTermination(TestTime.LONG.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
  }

  @Test
  void closeWaitsForEveryAcceptedTaskAndMapChunk() throws Exception {
    start();
    List<Long> pids = workerPids(pool);
    String hold = signals.gate("hold");
    List<CompletableFuture<Integer>> tasks = new ArrayList<>();
    for (int k = 0; k < 2 * pool.parallelism(); k++) {
      int value = k;
      tasks.add(
          pool.submit(
              () -> {
                Signals.await(hold);
                return value * value;
              }));
    }
    SerializableFunction<Integer, Integer> fn =
        x -> {
          Signals.await(hold);
          return -x;
        };
    MapResults<Integer> mapped =
        pool.map(
            fn,
            IntStream.range(0, 6).boxed().toList(),
            MapOptions.defaults().chunkSize(1).window(16));
    assertThat(mapped.submitted()).isEqualTo(6);

    CompletableFuture<Boolean> allDoneWhenCloseReturned =
        CompletableFuture.supplyAsync(
            () -> {
              pool.close();
              return tasks.stream().allMatch(f -> f.isDone() && !f.isCompletedExceptionally())
                  && mapped.completed() == 6;
            });
    await().atMost(TestTime.LONG).until(pool::isShutdown);
    assertThat(allDoneWhenCloseReturned).as("close() while tasks are held").isNotDone();
    signals.open(hold);
    assertThat(allDoneWhenCloseReturned.get(TestTime.LONG.toMillis(), TimeUnit.MILLISECONDS))
        .as("every task and chunk was finished when close() returned")
        .isTrue();
    assertThat(pool.isTerminated()).isTrue();
    for (int k = 0; k < tasks.size(); k++) {
      assertThat(tasks.get(k)).isCompletedWithValue(k * k);
    }
    assertThat(PoolExecutorContract.drain(mapped)).containsExactly(0, -1, -2, -3, -4, -5);
    Processes.awaitAllGone(pids, TestTime.LONG);
    pool.close(); // again: a no-op
  }

  @Test
  void awaitTerminationAndIsTerminatedFollowTheLifecycle() throws Exception {
    start();
    String hold = signals.gate("hold");
    List<CompletableFuture<Integer>> running = occupyAll(hold);
    assertThat(pool.isShutdown()).isFalse();
    assertThat(pool.isTerminated()).isFalse();

    pool.shutdown();
    assertThat(pool.isShutdown()).isTrue();
    assertThat(pool.isTerminated()).as("tasks are still running").isFalse();
    assertThat(pool.awaitTermination(100, TimeUnit.MILLISECONDS)).isFalse();

    signals.open(hold);
    assertThat(pool.awaitTermination(TestTime.LONG.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
    assertThat(pool.isTerminated()).isTrue();
    for (CompletableFuture<Integer> f : running) {
      assertThat(f).isCompleted().isNotCancelled();
    }
  }

  // ================================================================ map: close and timeout

  /** Every item marks that it ran, then waits at {@code hold}. */
  private static SerializableFunction<Integer, Integer> markAndHold(String dir, String hold) {
    return x -> {
      Signals.touch(dir + "/ran-" + x);
      Signals.await(hold);
      return x;
    };
  }

  @Test
  void closingAMapEarlyCancelsTheChunksNotStarted() throws Exception {
    start();
    int p = pool.parallelism();
    int mayStart = p + heldPerWorker() * pool.workers(); // running, or sent to a worker
    int window = mayStart + 4;
    String hold = signals.gate("hold");
    MapResults<Integer> results =
        pool.map(
            markAndHold(signals.dir(), hold),
            IntStream.range(0, 1000).boxed().toList(),
            MapOptions.defaults().chunkSize(1).window(window));
    for (int k = 0; k < p; k++) {
      signals.awaitMarker(signals.marker("ran-" + k));
    }
    try (Stream<Integer> view = results.stream()) {
      // closing the stream closes the map, before any result is read
      assertThat(view).isNotNull();
    }
    assertThat(results.hasNext()).isFalse();
    assertThat(results.submitted()).as("input read").isEqualTo(window);

    signals.open(hold);
    pool.close();
    assertThat(ran())
        .as("items that ran: those running at close, or already sent to a worker")
        .containsAll(IntStream.range(0, p).boxed().toList())
        .allMatch(i -> i < mayStart);
  }

  @Test
  void mapTimeoutCountsFromTheMapCallAndCancelsTheRest() throws Exception {
    start();
    int p = pool.parallelism();
    int mayStart = p + heldPerWorker() * pool.workers();
    int window = mayStart + 4;
    Duration timeout = TestTime.scaled(Duration.ofSeconds(3));
    String hold = signals.gate("hold");
    long t0 = System.nanoTime();
    MapResults<Integer> results =
        pool.map(
            markAndHold(signals.dir(), hold),
            IntStream.range(0, 1000).boxed().toList(),
            MapOptions.defaults().chunkSize(1).window(window).timeout(timeout));
    for (int k = 0; k < p; k++) {
      signals.awaitMarker(signals.marker("ran-" + k));
    }
    // Time passing is the subject here. Ask for the first result only when three quarters of the
    // timeout have gone: counted from map(), the deadline is then a quarter away; counted from
    // next(),
    // it would be a whole timeout away.
    Duration threeQuarters = timeout.multipliedBy(3).dividedBy(4);
    await().atMost(timeout).until(() -> System.nanoTime() - t0 >= threeQuarters.toNanos());

    Throwable thrown = catchThrowable(results::next);
    Duration elapsed = Duration.ofNanos(System.nanoTime() - t0);
    assertThat(thrown)
        .isInstanceOf(UncheckedTimeoutException.class)
        .hasCauseInstanceOf(TimeoutException.class)
        .hasMessageContaining("unfinished");
    assertThat(elapsed).isBetween(timeout, timeout.plus(timeout.dividedBy(2)));
    assertThat(results.hasNext()).as("a timed-out map is over").isFalse();
    assertThat(results.submitted()).isEqualTo(window);

    signals.open(hold);
    pool.close();
    assertThat(ran())
        .as("items that ran after the timeout cancelled the rest")
        .allMatch(i -> i < mayStart);
  }
}
