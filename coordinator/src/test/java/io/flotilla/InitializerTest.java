package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Python's {@code initializer}/{@code initargs}: once per worker, before its tasks; a failure
 * breaks the pool.
 */
class InitializerTest extends PoolTestBase {
  private ProcessPool pool;

  @AfterEach
  void stopPool() throws InterruptedException {
    Pools.shutDown(pool);
  }

  @Test
  void initializerRunsOncePerWorkerBeforeItsTasks() throws Exception {
    String dir = signals.dir();
    String greeting = "hello"; // initargs, captured
    pool =
        Pools.process(
            ProcessPool.builder()
                .workers(2)
                .initializer(
                    () -> {
                      long pid = ProcessHandle.current().pid();
                      Signals.touch(dir + "/init-" + pid + "-" + System.nanoTime());
                      System.setProperty("flotilla.test.initialized", greeting + " from " + pid);
                    }));
    Pools.awaitAllWorkersReady(pool);
    List<CompletableFuture<String>> tasks = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      tasks.add(
          pool.submit(
              () ->
                  ProcessHandle.current().pid()
                      + "="
                      + System.getProperty("flotilla.test.initialized")));
    }
    Set<Long> pids = new HashSet<>();
    for (CompletableFuture<String> t : tasks) {
      String[] r = t.get(TestTime.LONG.toMillis(), TimeUnit.MILLISECONDS).split("=", 2);
      long pid = Long.parseLong(r[0]);
      pids.add(pid);
      assertThat(r[1]).as("what the initializer left for the task").isEqualTo("hello from " + pid);
    }
    List<String> inits = signals.list("init-");
    Set<Long> initialized = new HashSet<>();
    for (String name : inits) {
      initialized.add(Long.parseLong(name.split("-")[1]));
    }
    assertThat(inits).as("one initializer run per worker").hasSize(pool.workers());
    assertThat(initialized)
        .containsExactlyInAnyOrderElementsOf(pool.workerPids())
        .containsAll(pids);
  }

  @Test
  void failingInitializerBreaksThePool() throws Exception {
    pool =
        Pools.process(
            ProcessPool.builder()
                .workers(2)
                .initializer(
                    () -> {
                      throw new IllegalStateException("initializer fails on purpose");
                    }));
    // Submitted before any worker can have started: pending when the pool breaks.
    CompletableFuture<Integer> pending = pool.submit(() -> 1);
    assertThatThrownBy(() -> pending.get(TestTime.LONG.toMillis(), TimeUnit.MILLISECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(BrokenPoolException.class)
        .hasMessageContaining("initializer fails on purpose")
        .hasRootCauseInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> pool.submit(() -> 2))
        .isInstanceOf(BrokenPoolException.class)
        .hasMessageContaining("initializer fails on purpose");
    assertThatThrownBy(() -> pool.map((Integer x) -> x, List.of(1)))
        .isInstanceOf(BrokenPoolException.class);
    List<Long> pids = pool.workerPids();
    pool.close();
    assertThat(pool.isTerminated()).isTrue();
    Processes.awaitAllGone(pids, TestTime.LONG);
  }

  @Test
  void initializerThatExitsTheWorkerBreaksThePoolInsteadOfRestartingForever() throws Exception {
    pool =
        Pools.process(
            ProcessPool.builder()
                .workers(2)
                .initializer(
                    () -> {
                      System.exit(9);
                    }));
    CompletableFuture<Integer> pending = pool.submit(() -> 1);
    assertThatThrownBy(() -> pending.get(TestTime.LONG.toMillis(), TimeUnit.MILLISECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(BrokenPoolException.class)
        .hasMessageContaining("exited with code 9");
    assertThatThrownBy(() -> pool.submit(() -> 2)).isInstanceOf(BrokenPoolException.class);
    pool.close();
    assertThat(pool.isTerminated()).isTrue();
  }

  @Test
  void initializerThatCannotBeSentIsRejectedByTheBuilder() {
    Thread captured = new Thread(() -> {});
    assertThatThrownBy(() -> ProcessPool.builder().initializer(() -> captured.getName()).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("initializer")
        .hasMessageContaining("java.lang.Thread");
  }
}
