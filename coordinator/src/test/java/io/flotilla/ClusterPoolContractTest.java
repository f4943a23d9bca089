package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The {@link PoolExecutorContract} on a coordinator server's workers ({@code ProcessPool.connect}):
 * the same tests a local pool passes, through a real coordinator, real Pekko membership and worker
 * JVMs that joined it, plus what only a connected pool does.
 */
class ClusterPoolContractTest extends PoolExecutorContract {
  private static RemoteWorkers cluster;
  private static ClusterPool pool;

  @BeforeAll
  static void connect() throws Exception {
    cluster = new RemoteWorkers(Files.createTempDirectory("flotilla-cluster"));
    cluster.addWorker();
    cluster.addWorker();
    pool = cluster.connect();
    await("two workers joined").atMost(TestTime.LONG).until(() -> pool.workers() == 2);
  }

  @AfterAll
  static void disconnect() throws InterruptedException {
    Pools.shutDown(pool);
    if (cluster != null) {
      cluster.close();
    }
  }

  @Override
  PoolExecutor pool() {
    return pool;
  }

  @Override
  boolean remote() {
    return true;
  }

  @Test
  void parallelismFollowsTheWorkersThatJoined() {
    assertThat(pool.workers()).isEqualTo(2);
    assertThat(pool.parallelism()).isEqualTo(2);
    assertThat(pool.toString()).contains(cluster.address());
  }

  @Test
  void aClientWithTheWrongSecretIsRefusedByName() {
    Throwable refused =
        org.assertj.core.api.Assertions.catchThrowable(
            () -> ClusterPool.builder(cluster.address()).secret("not-it").build());
    assertThat(refused)
        .isInstanceOf(BrokenPoolException.class)
        .hasMessageContaining("refused")
        .hasMessageContaining("wrong cluster secret");
  }

  @Test
  void cancellingARunningTaskStopsItsTaskJvmWhichItsHostReplaces() throws Exception {
    Pools.awaitAllWorkersReady(pool);
    String dir = signals.dir();
    String hold = signals.gate("hold");
    java.util.concurrent.CompletableFuture<Long> stuck =
        pool.submit(
            () -> {
              Signals.touch(dir + "/running-" + ProcessHandle.current().pid());
              Signals.await(hold);
              return ProcessHandle.current().pid();
            });
    await().atMost(TestTime.LONG).until(() -> !signals.list("running-").isEmpty());
    long taskJvm = Long.parseLong(signals.list("running-").get(0).substring("running-".length()));
    assertThat(stuck.cancel(false)).as("it runs: only cancel(true) can stop it").isFalse();
    assertThat(stuck.cancel(true)).isTrue();
    assertThat(stuck).isCancelled();
    // The task JVM that ran it exits; its host, still in the cluster, starts a fresh one, and the
    // pool goes on with two workers, on the same two hosts.
    await("the stopped task JVM gone")
        .atMost(TestTime.LONG)
        .until(() -> !Processes.isRunning(taskJvm));
    await("two workers again").atMost(TestTime.LONG).until(() -> pool.workers() == 2);
    assertThat(cluster.hosts()).allMatch(Process::isAlive);
    assertThat(get(pool.submit(() -> ProcessHandle.current().pid()))).isNotEqualTo(taskJvm);
  }

  @Test
  void noCoordinatorThereIsAClearErrorNotAHang() throws Exception {
    int closedPort;
    try (java.net.ServerSocket probe = new java.net.ServerSocket(0)) {
      closedPort = probe.getLocalPort();
    }
    Throwable thrown =
        org.assertj.core.api.Assertions.catchThrowable(
            () -> ClusterPool.connect("127.0.0.1:" + closedPort));
    assertThat(thrown)
        .isInstanceOf(BrokenPoolException.class)
        .hasMessageContaining("cannot reach a coordinator at 127.0.0.1:" + closedPort);
  }
}
