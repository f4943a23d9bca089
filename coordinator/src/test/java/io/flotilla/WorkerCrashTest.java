package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The {@link WorkerCrashContract} on a local pool, which replaces its worker JVMs itself. */
class WorkerCrashTest extends WorkerCrashContract {
  private static ProcessPool pool;

  @BeforeAll
  static void startPool() {
    pool =
        Pools.process(
            ProcessPool.builder()
                .workers(2)
                .maxAttempts(ATTEMPTS)
                .jvmArgs("-Xmx64m")
                .systemProperty(Payloads.SIDE_PROPERTY, "worker"));
  }

  @AfterAll
  static void stopPool() throws InterruptedException {
    Pools.shutDown(pool);
  }

  @Override
  PoolExecutor pool() {
    return pool;
  }

  @Override
  void awaitReplacements(long deadPid) {
    await("replacement workers")
        .atMost(TestTime.LONG)
        .untilAsserted(
            () -> assertThat(pool.workerPids()).hasSize(pool.workers()).doesNotContain(deadPid));
  }
}
