package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.flotilla.internal.jobs.JobLimits;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Work sent to a coordinator that has no worker: it is said at once, to the log and to the client,
 * and fails with {@link BrokenPoolException} after the coordinator's patience rather than wait
 * unseen; the pool is not broken by it, and runs on the first worker that joins.
 */
@FlotillaTest
class NoWorkersTest {
  @Test
  void aConnectedPoolsTasksFailAfterThePatienceAndRunOnceAWorkerJoins(@TempDir Path dir)
      throws Exception {
    try (CapturedLog log = new CapturedLog();
        RemoteWorkers cluster =
            new RemoteWorkers(dir, Map.of(), JobLimits.DEFAULT, Duration.ofSeconds(2))) {
      ClusterPool pool = cluster.connect();
      CompletableFuture<Integer> first = pool.submit(() -> 1);
      await("the client's warning")
          .atMost(TestTime.LONG)
          .until(
              () ->
                  !log.warnings(
                          "io.flotilla.internal.remote.ClientLinkBackend",
                          "no workers: 1 chunks waiting at the coordinator " + cluster.address(),
                          "they fail after 2 s unless a worker joins")
                      .isEmpty());
      assertThatThrownBy(() -> first.get(TestTime.LONG.toMillis(), TimeUnit.MILLISECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(BrokenPoolException.class)
          .hasMessageContaining("no workers for 2 s: 1 chunks were waiting")
          .hasMessageContaining("--no-workers-timeout");

      // Not broken: the next task is taken, and waits as long again; close() waits for it, and
      // returns once it has failed.
      CompletableFuture<Integer> second = pool.submit(() -> 2);
      pool.close();
      assertThatThrownBy(second::get)
          .cause()
          .isInstanceOf(BrokenPoolException.class)
          .hasMessageContaining("no workers for 2 s");

      cluster.addWorker();
      try (ClusterPool again = cluster.connect()) {
        await("the worker joined").atMost(TestTime.LONG).until(() -> again.workers() == 1);
        assertThat(again.submit(() -> 3).get(TestTime.LONG.toMillis(), TimeUnit.MILLISECONDS))
            .isEqualTo(3);
      }
    }
  }
}
