package io.flotilla.cli.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import io.flotilla.BrokenPoolException;
import io.flotilla.ClusterPool;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code flotilla coordinator} and {@code flotilla worker} as processes, on loopback: how they start,
 * stop and die, and what a client and a worker are told when the coordinator goes.
 */
class CoordinatorLifecycleTest {
  private static final Duration WAIT = Duration.ofSeconds(90);
  private static final String SECRET = "lifecycle";

  @TempDir Path tmp;

  private ChildJvm coordinator() throws Exception {
    ChildJvm c =
        new ChildJvm(
            "coordinator", null, Map.of("FLOTILLA_SECRET", SECRET),
            "coordinator", "--port", "0", "--cluster-port", "0", "--data-dir", tmp.resolve("data").toString());
    await("readiness").atMost(WAIT).failFast(() -> !c.process().isAlive())
        .until(() -> c.line("flotilla coordinator ready:") != null);
    return c;
  }

  private static String address(ChildJvm coordinator) {
    String ready = coordinator.line("flotilla coordinator ready:");
    int at = ready.indexOf("grpc=") + 5;
    return ready.substring(at, ready.indexOf(' ', at));
  }

  private ChildJvm worker(String address) throws Exception {
    return new ChildJvm(
        "worker", null, Map.of("FLOTILLA_SECRET", SECRET),
        "worker", "--join", address, "--threads", "1", "--cache-dir", tmp.resolve("code").toString());
  }

  @Test
  void aCoordinatorKilledMidTaskFailsTheTaskWithItsAddressAndItsWorkerExits() throws Exception {
    try (ChildJvm coordinator = coordinator();
        ChildJvm worker = worker(address(coordinator))) {
      await("a worker").atMost(WAIT).until(() -> coordinator.count("ready with") == 1);
      ClusterPool pool = ClusterPool.builder(address(coordinator)).secret(SECRET).build();
      String started = tmp.resolve("started").toString();
      CompletableFuture<String> running =
          pool.submit(
              () -> {
                java.nio.file.Files.createFile(java.nio.file.Path.of(started));
                Thread.sleep(60_000);
                return "too late";
              });
      await("the task runs").atMost(WAIT).until(() -> java.nio.file.Files.exists(Path.of(started)));
      coordinator.process().destroyForcibly();
      Throwable failed = catchThrowable(() -> running.get(WAIT.toSeconds(), TimeUnit.SECONDS));
      assertThat(failed)
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(BrokenPoolException.class)
          .hasMessageContaining("lost the coordinator at " + address(coordinator));
      assertThat(catchThrowable(() -> pool.submit(() -> 1)))
          .as("a broken pool takes nothing more")
          .isInstanceOf(BrokenPoolException.class);
      pool.close();
      // The worker is nobody's orphan: with its coordinator gone, it leaves, for its supervisor to restart.
      assertThat(worker.process().waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).as(worker.output()).isTrue();
      assertThat(worker.process().exitValue()).as(worker.output()).isEqualTo(66);
    }
  }

  @Test
  void sigtermStopsTheCoordinatorGracefullyAndItsWorkersLeave() throws Exception {
    try (ChildJvm coordinator = coordinator();
        ChildJvm worker = worker(address(coordinator))) {
      await("a worker").atMost(WAIT).until(() -> coordinator.count("ready with") == 1);
      try (ClusterPool pool = ClusterPool.builder(address(coordinator)).secret(SECRET).build()) {
        assertThat(pool.submit(() -> "done").get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("done");
      }
      coordinator.process().destroy();
      assertThat(coordinator.process().waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).as(coordinator.output()).isTrue();
      assertThat(coordinator.process().exitValue()).as(coordinator.output()).isIn(0, 143);
      assertThat(worker.process().waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).as(worker.output()).isTrue();
      assertThat(worker.process().exitValue()).as(worker.output()).isEqualTo(66);
    }
  }

  @Test
  void theCoordinatorRefusesToStartOpenOnEveryInterface() throws Exception {
    ChildJvm open =
        new ChildJvm("open", null, Map.of(), "coordinator", "--bind", "0.0.0.0", "--port", "0", "--cluster-port", "0");
    try (open) {
      assertThat(open.process().waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
      assertThat(open.process().exitValue()).isEqualTo(2);
      assertThat(open.output()).contains("refusing to listen on 0.0.0.0 without a cluster secret");
    }
  }
}
