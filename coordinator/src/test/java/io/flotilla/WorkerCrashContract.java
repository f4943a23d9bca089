package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import io.flotilla.Payloads.Faulty;
import io.flotilla.Payloads.How;
import io.flotilla.Payloads.Where;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Workers dying at every boundary where a task can kill them (CPython's test_deadlock, "exit" and
 * "crash" columns): decoding the task, running it, encoding its result; by System.exit,
 * Runtime.halt, heap exhaustion and SIGKILL from outside. Each ends in {@link
 * WorkerCrashedException} after the configured attempts, saying how the worker died, never in a
 * hang; and the pool replaces the worker and goes on. A poison item in a chunk is found by
 * bisection, and its neighbours complete.
 *
 * <p>Subclasses supply one pool of two workers with {@value #ATTEMPTS} attempts per chunk, whose
 * workers run with a 64 MiB heap and the system property {@link Payloads#SIDE_PROPERTY} set to
 * "worker": every crash test kills two workers and the next test runs on their replacements. A
 * local pool replaces its worker JVMs itself; a cluster's worker hosts replace their task JVMs.
 */
abstract class WorkerCrashContract extends PoolTestBase {
  static final int ATTEMPTS = 2;

  /**
   * @return the pool shared by the class
   */
  abstract PoolExecutor pool();

  /**
   * Waits until the pool again has as many workers as it started with, none of them the dead one.
   *
   * @param deadPid the process id of a worker that died
   */
  abstract void awaitReplacements(long deadPid) throws Exception;

  private static <T> T get(Future<T> f) throws Exception {
    return f.get(TestTime.LONG.toMillis(), TimeUnit.MILLISECONDS);
  }

  private static WorkerCrashedException crash(Future<?> f) {
    Throwable thrown = catchThrowable(() -> get(f));
    assertThat(thrown)
        .isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(WorkerCrashedException.class);
    return (WorkerCrashedException) thrown.getCause();
  }

  /** The dead worker is gone, a replacement has taken its place, and tasks run again. */
  private void assertPoolRecovers(long deadPid) throws Exception {
    await("the dead worker's process gone")
        .atMost(TestTime.LONG)
        .until(() -> !Processes.isRunning(deadPid));
    assertThat(get(pool().submit(() -> "recovered"))).isEqualTo("recovered");
    awaitReplacements(deadPid);
  }

  @ParameterizedTest(name = "{1} in {0}")
  @CsvSource({
    "DECODE_IN_WORKER, EXIT, 41",
    "DECODE_IN_WORKER, HALT, 42",
    "ENCODE_IN_WORKER, EXIT, 45",
    "ENCODE_IN_WORKER, HALT, 46"
  })
  void workerDyingWhileDecodingOrEncodingFailsTheTaskWithWorkerCrashed(
      Where where, How how, int code) throws Exception {
    CompletableFuture<Object> f =
        where == Where.DECODE_IN_WORKER
            ? pool().submit((Faulty v) -> "never", new Faulty(where, how, code))
            : pool().submit(() -> new Faulty(where, how, code));
    WorkerCrashedException e = crash(f);
    assertThat(e.exitCode()).isEqualTo(code);
    assertThat(e.attempts()).isEqualTo(ATTEMPTS);
    assertThat(e.itemIndex()).isEqualTo(-1);
    assertThat(e)
        .hasMessageContaining("exit code " + code)
        .hasMessageContaining("after 2 attempts");
    assertPoolRecovers(e.pid());
  }

  @Test
  void taskCallingSystemExitFailsWithWorkerCrashed() throws Exception {
    CompletableFuture<Integer> f =
        pool()
            .submit(
                () -> {
                  System.exit(43);
                  return 0;
                });
    WorkerCrashedException e = crash(f);
    assertThat(e.exitCode()).isEqualTo(43);
    assertThat(e.attempts()).isEqualTo(ATTEMPTS);
    assertPoolRecovers(e.pid());
  }

  @Test
  void taskHaltingItsJvmFailsWithWorkerCrashed() throws Exception {
    CompletableFuture<Integer> f =
        pool()
            .submit(
                () -> {
                  Runtime.getRuntime().halt(44);
                  return 0;
                });
    WorkerCrashedException e = crash(f);
    assertThat(e.exitCode()).isEqualTo(44);
    assertThat(e.workerId()).isNotBlank();
    assertThat(e.host()).isNotBlank();
    assertThat(e).hasMessageContaining(" on " + e.host() + ")");
    assertPoolRecovers(e.pid());
  }

  @Test
  void heapExhaustionIsReportedAsSuch() throws Exception {
    CompletableFuture<Integer> f =
        pool()
            .submit(
                () -> {
                  @SuppressWarnings("ModifiedButNotUsed") // held only to fill the heap
                  List<long[]> hog = new ArrayList<>();
                  while (true) {
                    hog.add(new long[1 << 17]);
                  }
                });
    WorkerCrashedException e = crash(f);
    assertThat(e.exitCode()).as("-XX:+ExitOnOutOfMemoryError's exit code").isEqualTo(3);
    assertThat(e)
        .hasMessageContaining("OutOfMemoryError")
        .hasMessageContaining("out of heap memory");
    assertThat(e.outOfMemory()).isTrue();
    assertPoolRecovers(e.pid());
  }

  @Test
  void taskWhoseWorkerDiesOnceSucceedsOnItsSecondAttempt() throws Exception {
    String firstAttempt = signals.marker("first-attempt");
    CompletableFuture<String> f =
        pool()
            .submit(
                () -> {
                  if (!Files.exists(Path.of(firstAttempt))) {
                    Signals.touch(firstAttempt);
                    Runtime.getRuntime().halt(47);
                  }
                  return "second attempt";
                });
    assertThat(get(f)).isEqualTo("second attempt");
  }

  @Test
  void workerKilledFromOutsideIsReplacedAndItsTaskRunsAgain() throws Exception {
    String dir = signals.dir();
    String hold = signals.gate("hold");
    CompletableFuture<Long> f =
        pool()
            .submit(
                () -> {
                  long pid = ProcessHandle.current().pid();
                  Signals.touch(dir + "/running-" + pid);
                  Signals.await(hold);
                  return pid;
                });
    await().atMost(TestTime.LONG).until(() -> !signals.list("running-").isEmpty());
    long first = Long.parseLong(signals.list("running-").get(0).substring("running-".length()));
    Processes.kill(first);
    await("the task to start again")
        .atMost(TestTime.LONG)
        .until(() -> signals.list("running-").size() == 2);
    signals.open(hold);
    assertThat(get(f)).isNotEqualTo(first);
    assertPoolRecovers(first);
  }

  @Test
  void mapItemThatKillsItsWorkerFailsAloneAndTheOtherItemsComplete() throws Exception {
    SerializableFunction<Integer, Integer> fn =
        x -> {
          if (x == 3) {
            Runtime.getRuntime().halt(48);
          }
          return x * 2;
        };
    List<Object> out =
        PoolExecutorContract.drain(
            pool()
                .map(
                    fn,
                    IntStream.range(0, 8).boxed().toList(),
                    MapOptions.defaults().chunkSize(1)));
    assertThat(out).hasSize(8);
    for (int i = 0; i < 8; i++) {
      if (i == 3) {
        assertThat(out.get(i)).isInstanceOf(CompletionException.class);
        WorkerCrashedException e = (WorkerCrashedException) ((Throwable) out.get(i)).getCause();
        assertThat(e.itemIndex()).isEqualTo(3);
        assertThat(e.exitCode()).isEqualTo(48);
        assertThat(e).hasMessageContaining("item 3");
      } else {
        assertThat(out.get(i)).as("item %d", i).isEqualTo(i * 2);
      }
    }
  }

  @Test
  void aPoisonItemInABigChunkFailsAloneAndTheRestOfItsChunkCompletes() {
    SerializableFunction<Integer, Integer> fn =
        x -> {
          if (x == 37) {
            Runtime.getRuntime().halt(41);
          }
          return x + 1000;
        };
    List<Object> out =
        PoolExecutorContract.drain(
            pool()
                .map(
                    fn,
                    IntStream.range(0, 100).boxed().toList(),
                    MapOptions.defaults().chunkSize(100)));
    assertThat(out).hasSize(100);
    for (int i = 0; i < 100; i++) {
      if (i == 37) {
        assertThat(out.get(i)).isInstanceOf(CompletionException.class);
        WorkerCrashedException crash = (WorkerCrashedException) ((Throwable) out.get(i)).getCause();
        assertThat(crash.itemIndex()).isEqualTo(37);
        assertThat(crash.exitCode()).isEqualTo(41);
        assertThat(crash.attempts()).isEqualTo(ATTEMPTS);
      } else {
        assertThat(out.get(i)).as("item %d", i).isEqualTo(i + 1000);
      }
    }
  }
}
