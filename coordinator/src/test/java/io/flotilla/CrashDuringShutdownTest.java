package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A worker killed while {@code shutdown(wait=true)} waits for its task: the task runs again on a
 * replacement, shutdown returns once it is done, and no worker process is left behind.
 */
class CrashDuringShutdownTest extends PoolTestBase {
  private ProcessPool pool;

  @AfterEach
  void stop() throws Exception {
    signals.openAll();
    Pools.shutDown(pool);
  }

  @Test
  void shutdownWaitSurvivesAWorkerKilledUnderItAndLeavesNoProcess() throws Exception {
    pool = Pools.process(ProcessPool.builder().workers(2));
    Pools.awaitAllWorkersReady(pool);
    String dir = signals.dir();
    String gate = signals.gate("finish");
    CompletableFuture<Long> task =
        pool.submit(
            () -> {
              long pid = ProcessHandle.current().pid();
              Signals.touch(dir + "/running-" + pid);
              Signals.await(gate);
              return pid;
            });
    await("the task to run")
        .atMost(TestTime.LONG)
        .until(() -> signals.list("running-").size() == 1);
    long victim = Long.parseLong(signals.list("running-").get(0).substring("running-".length()));

    CompletableFuture<Void> shutdown = CompletableFuture.runAsync(() -> pool.shutdown(true, false));
    await("shutdown to begin").atMost(TestTime.LONG).until(pool::isShutdown);
    ProcessHandle.of(victim).ifPresent(ProcessHandle::destroyForcibly);
    await("the task to run again elsewhere")
        .atMost(TestTime.LONG)
        .until(() -> signals.list("running-").size() == 2);
    assertThat(shutdown).as("shutdown(wait=true) still waits for the task").isNotDone();
    signals.open(gate);

    shutdown.get(TestTime.LONG.toMillis(), TimeUnit.MILLISECONDS);
    assertThat(task.get(1, TimeUnit.SECONDS)).isNotEqualTo(victim);
    assertThat(pool.isTerminated()).isTrue();
    List<Long> pids = pool.workerPids();
    assertThat(pids).as("no worker process left").isEmpty();
    assertThat(pool.stats().retries()).isEqualTo(1);
  }
}
