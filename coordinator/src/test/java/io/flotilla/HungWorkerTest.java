package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A worker that stops answering (here: a task SIGSTOPs its own JVM, so the process lives but does
 * nothing) is detected by missed heartbeats, killed and replaced; its task fails once out of
 * attempts. Cross-reference: the attempt accounting is tested without processes in
 * ChunkSchedulerTest.
 */
@FlotillaTest
class HungWorkerTest {
  private ProcessPool pool;

  @AfterEach
  void stop() throws Exception {
    Pools.shutDown(pool);
  }

  @Test
  void aStoppedWorkerIsDeclaredLostKilledAndReplaced() throws Exception {
    pool =
        Pools.process(
            ProcessPool.builder()
                .workers(1)
                .maxAttempts(1)
                .heartbeatTimeout(Duration.ofMillis(1500)));
    long firstPid = pool.submit(() -> ProcessHandle.current().pid()).get(60, TimeUnit.SECONDS);
    CompletableFuture<Integer> stopped =
        pool.submit(
            () -> {
              long self = ProcessHandle.current().pid();
              // The shell's own kill: /bin/kill (procps) is not on every machine, /bin/sh is.
              new ProcessBuilder("/bin/sh", "-c", "kill -STOP \"$1\"", "sh", Long.toString(self))
                  .start()
                  .waitFor();
              // The stop lands asynchronously: this task must not answer even in the moment before
              // it
              // does (once, in CI, it did, and the test saw a result instead of a hung worker).
              new java.util.concurrent.CountDownLatch(1).await();
              return 1;
            });
    Throwable failure = catchThrowable(() -> stopped.get(30, TimeUnit.SECONDS));
    assertThat(failure).isInstanceOf(ExecutionException.class);
    assertThat(failure.getCause()).isInstanceOf(WorkerCrashedException.class);
    WorkerCrashedException crash = (WorkerCrashedException) failure.getCause();
    assertThat(crash.pid()).isEqualTo(firstPid);
    assertThat(crash.exitCode()).as("killed once declared lost").isEqualTo(137);
    assertThat(crash.how()).contains("stopped answering").contains("killed");
    assertThat(crash).hasMessageContaining("stopped answering");
    assertThat(ProcessHandle.of(firstPid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    long nextPid = pool.submit(() -> ProcessHandle.current().pid()).get(60, TimeUnit.SECONDS);
    assertThat(nextPid).isNotEqualTo(firstPid);
    assertThat(pool.stats().crashes()).isEqualTo(1);
  }
}
