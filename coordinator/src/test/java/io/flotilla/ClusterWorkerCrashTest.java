package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The {@link WorkerCrashContract} on a connected pool: a coordinator server and two worker hosts
 * that joined it as {@code flotilla worker} does. A task that kills its worker kills a host's task
 * JVM, which the host reports and starts again; the crash reaches the client with the exit code and
 * stderr the host saw.
 */
class ClusterWorkerCrashTest extends WorkerCrashContract {
  private static RemoteWorkers cluster;
  private static ClusterPool pool;

  @BeforeAll
  static void connect() throws Exception {
    cluster = new RemoteWorkers(Files.createTempDirectory("flotilla-crash"), ATTEMPTS);
    for (int i = 0; i < 2; i++) {
      cluster.addWorker("-Xmx64m", "-D" + Payloads.SIDE_PROPERTY + "=worker");
    }
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
  void awaitReplacements(long deadPid) throws Exception {
    await("two workers again").atMost(TestTime.LONG).until(() -> pool.workers() == 2);
    // Every host is still up: only its task JVM died.
    assertThat(cluster.hosts()).allMatch(Process::isAlive);
    Pools.awaitAllWorkersReady(pool);
  }
}
