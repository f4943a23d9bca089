package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A running task can be stopped: by {@code cancel(true)} or by the task timeout. Its worker is
 * killed (the only safe way to stop a JVM thread) and replaced, the task is not retried, and work
 * queued behind it on the same worker runs elsewhere without being charged.
 */
@FlotillaTest
class HardCancelAndTimeoutTest {
  @TempDir Path tmp;
  private PoolExecutor pool;

  @AfterEach
  void stop() throws Exception {
    Pools.shutDown(pool);
  }

  /** A task that marks that it runs, then spins until its worker is killed. */
  private static SerializableCallable<Long> spinForever(String marker) {
    return () -> {
      Signals.touch(marker);
      long n = 0;
      while (!Thread.currentThread().isInterrupted()) {
        n++;
      }
      return n;
    };
  }

  @Test
  void aTaskPastTheTimeoutFailsWithTimeoutExceptionAndItsWorkerIsReplaced() throws Exception {
    ProcessPool p =
        Pools.process(
            ProcessPool.builder().workers(1).maxAttempts(1).taskTimeout(Duration.ofSeconds(1)));
    pool = p;
    long firstPid = p.submit(() -> ProcessHandle.current().pid()).get(60, TimeUnit.SECONDS);
    String marker = tmp.resolve("spinning").toString();
    CompletableFuture<Long> spinning = p.submit(spinForever(marker));
    // Queued behind it on the only worker: it must complete once the worker is replaced.
    CompletableFuture<Long> behind = p.submit(() -> ProcessHandle.current().pid());
    Throwable failure = catchThrowable(() -> spinning.get(30, TimeUnit.SECONDS));
    assertThat(failure).isInstanceOf(ExecutionException.class);
    assertThat(failure.getCause())
        .isInstanceOf(TimeoutException.class)
        .hasMessageContaining("task timeout");
    assertThat(behind.get(60, TimeUnit.SECONDS)).isNotEqualTo(firstPid);
    await("the timed-out worker to be gone")
        .atMost(TestTime.LONG)
        .until(() -> !ProcessHandle.of(firstPid).map(ProcessHandle::isAlive).orElse(false));
    assertThat(p.stats().crashes()).as("a deliberate kill is not a crash").isZero();
    assertThat(p.stats().retries()).isEqualTo(1);
  }

  @Test
  void cancelTrueStopsARunningTaskAndTheTaskNeverCompletes() throws Exception {
    ProcessPool p = Pools.process(ProcessPool.builder().workers(1));
    pool = p;
    String marker = tmp.resolve("spinning").toString();
    long firstPid = p.submit(() -> ProcessHandle.current().pid()).get(60, TimeUnit.SECONDS);
    CompletableFuture<Long> spinning = p.submit(spinForever(marker));
    await("the task to start")
        .atMost(TestTime.LONG)
        .until(() -> tmp.resolve("spinning").toFile().exists());
    assertThat(spinning.cancel(false)).as("cancel(false) of a running task").isFalse();
    assertThat(spinning.cancel(true)).isTrue();
    assertThat(spinning).isCancelled();
    assertThat(catchThrowable(spinning::join)).isInstanceOf(CancellationException.class);
    await("the worker running it to be killed")
        .atMost(TestTime.LONG)
        .until(() -> !ProcessHandle.of(firstPid).map(ProcessHandle::isAlive).orElse(false));
    assertThat(p.submit(() -> 6 * 7).get(60, TimeUnit.SECONDS)).isEqualTo(42);
    assertThat(p.stats().crashes()).isZero();
  }

  /** Lets the thread-pool task below end: threads of this JVM see it. */
  private static final java.util.concurrent.atomic.AtomicBoolean RELEASE =
      new java.util.concurrent.atomic.AtomicBoolean();

  @Test
  void aThreadPoolCannotStopARunningTask() throws Exception {
    pool = Pools.track(ThreadPool.of(1));
    CompletableFuture<Boolean> running = new CompletableFuture<>();
    CompletableFuture<Integer> spinning =
        pool.submit(
            () -> {
              running.complete(true);
              while (!RELEASE.get()) {
                Thread.onSpinWait();
              }
              return 1;
            });
    try {
      running.get(30, TimeUnit.SECONDS);
      assertThat(spinning.cancel(true)).isFalse();
      assertThat(spinning).isNotDone();
    } finally {
      RELEASE.set(true);
    }
    assertThat(spinning.get(30, TimeUnit.SECONDS)).isEqualTo(1);
  }

  @Test
  void aHungItemInAMapChunkTimesOutAloneAndItsNeighboursComplete() throws Exception {
    ProcessPool p =
        Pools.process(
            ProcessPool.builder().workers(2).maxAttempts(1).taskTimeout(Duration.ofSeconds(1)));
    pool = p;
    SerializableFunction<Integer, Integer> fn =
        x -> {
          while (x == 4) {
            Thread.onSpinWait();
          }
          return x * 3;
        };
    java.util.List<Object> out =
        PoolExecutorContract.drain(
            p.map(
                fn,
                java.util.stream.IntStream.range(0, 10).boxed().toList(),
                MapOptions.defaults().chunkSize(10)));
    for (int i = 0; i < 10; i++) {
      if (i == 4) {
        assertThat(out.get(i)).isInstanceOf(java.util.concurrent.CompletionException.class);
        assertThat(((Throwable) out.get(i)).getCause()).isInstanceOf(TimeoutException.class);
      } else {
        assertThat(out.get(i)).as("item %d", i).isEqualTo(i * 3);
      }
    }
  }

  @Test
  void aChunkLongerThanTheTimeoutWhoseItemsAreEachQuickIsNotKilled() throws Exception {
    ProcessPool p =
        Pools.process(ProcessPool.builder().workers(1).taskTimeout(Duration.ofMillis(500)));
    pool = p;
    // Twenty items of 60 ms in one chunk: 1.2 s in all, each well within the timeout.
    SerializableFunction<Integer, Integer> fn =
        x -> {
          long until = System.nanoTime() + 60_000_000L;
          while (System.nanoTime() < until) {
            Thread.onSpinWait();
          }
          return x + 1;
        };
    java.util.List<Object> out =
        PoolExecutorContract.drain(
            p.map(
                fn,
                java.util.stream.IntStream.range(0, 20).boxed().toList(),
                MapOptions.defaults().chunkSize(20)));
    assertThat(out).isEqualTo(java.util.stream.IntStream.range(1, 21).boxed().toList());
    assertThat(p.stats().replacements()).as("no worker was killed and replaced").isZero();
  }
}
