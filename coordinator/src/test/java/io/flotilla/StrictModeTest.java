package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code strict()}: Python's semantics, where one worker death breaks the pool, with the cause. */
@FlotillaTest
class StrictModeTest {
  private ProcessPool pool;

  @AfterEach
  void stop() throws Exception {
    Pools.shutDown(pool);
  }

  @Test
  void aWorkerDeathBreaksThePoolAndEveryPendingTaskFailsWithTheCrashAsCause() throws Exception {
    pool = Pools.process(ProcessPool.builder().workers(1).strict());
    pool.submit(() -> 1).get(60, TimeUnit.SECONDS);
    CompletableFuture<Integer> killer =
        pool.submit(
            () -> {
              Runtime.getRuntime().halt(5);
              return 0;
            });
    CompletableFuture<Integer> behind = pool.submit(() -> 2);
    for (CompletableFuture<Integer> f : java.util.List.of(killer, behind)) {
      Throwable failure = catchThrowable(() -> f.get(30, TimeUnit.SECONDS));
      assertThat(failure).isInstanceOf(ExecutionException.class);
      assertThat(failure.getCause()).isInstanceOf(BrokenPoolException.class);
      assertThat(failure.getCause().getCause()).isInstanceOf(WorkerCrashedException.class);
      assertThat(((WorkerCrashedException) failure.getCause().getCause()).exitCode()).isEqualTo(5);
    }
    assertThatThrownBy(() -> pool.submit(() -> 3))
        .isInstanceOf(BrokenPoolException.class)
        .hasMessageContaining("strict");
  }
}
