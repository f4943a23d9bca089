package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Application exceptions are results, never retried, unless the pool opts in for listed types; then
 * an item runs again up to maxAttempts times in all. Each run leaves a marker file, so runs are
 * counted.
 */
class RetryOnTest extends PoolTestBase {
  private ProcessPool pool;

  @AfterEach
  void stop() throws Exception {
    Pools.shutDown(pool);
  }

  /** Fails with {@code error} on its first {@code failures} runs, leaving one marker per run. */
  private static SerializableFunction<Integer, Integer> flaky(
      String dir, int failures, String error) {
    return x -> {
      int run;
      try (java.util.stream.Stream<java.nio.file.Path> runs =
          java.nio.file.Files.list(java.nio.file.Path.of(dir))) {
        run =
            (int) runs.filter(p -> p.getFileName().toString().startsWith("run-" + x + "-")).count();
      }
      Signals.touch(dir + "/run-" + x + "-" + run);
      if (run < failures) {
        throw error.equals("state")
            ? new IllegalStateException("transient, run " + run)
            : new ArithmeticException("a real bug, run " + run);
      }
      return x * 10;
    };
  }

  @Test
  void listedExceptionsAreRetriedUpToMaxAttemptsAndOthersNever() throws Exception {
    pool =
        Pools.process(
            ProcessPool.builder().workers(1).maxAttempts(3).retryOn(IllegalStateException.class));
    String dir = signals.dir();

    assertThat(pool.submit(flaky(dir, 2, "state"), 1).get(60, TimeUnit.SECONDS))
        .as("succeeds on its third run")
        .isEqualTo(10);
    assertThat(signals.list("run-1-")).hasSize(3);

    Throwable notListed =
        catchThrowable(() -> pool.submit(flaky(dir, 5, "bug"), 2).get(60, TimeUnit.SECONDS));
    assertThat(notListed).isInstanceOf(ExecutionException.class);
    assertThat(notListed.getCause()).isInstanceOf(ArithmeticException.class);
    assertThat(signals.list("run-2-")).as("never retried").hasSize(1);

    List<Object> mapped =
        PoolExecutorContract.drain(pool.map(flaky(dir, 5, "state"), List.of(3, 4)));
    for (Object o : mapped) {
      assertThat(o).isInstanceOf(CompletionException.class);
      assertThat(((Throwable) o).getCause())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("run 2");
    }
    assertThat(signals.list("run-3-"))
        .as("three runs, then its last exception is its result")
        .hasSize(3);
    assertThat(signals.list("run-4-")).hasSize(3);
  }
}
