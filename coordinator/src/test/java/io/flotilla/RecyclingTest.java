package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code maxTasksPerWorker} (Python's {@code max_tasks_per_child}): workers are replaced after
 * their quota, and a backlog submitted all at once still finishes (cpython gh-115634 was a hang
 * here).
 */
@FlotillaTest
class RecyclingTest {
  private ProcessPool pool;

  @AfterEach
  void stop() throws Exception {
    Pools.shutDown(pool);
    System.clearProperty("flotilla.cds.dir");
  }

  @Test
  @org.junit.jupiter.api.Timeout(
      value = 400,
      unit = java.util.concurrent.TimeUnit.SECONDS,
      threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
  void oneTaskPerWorkerGivesEveryTaskAFreshJvmAndLosesNothing(@TempDir Path temp) throws Exception {
    // Sixty JVM starts: with a packaged class path, all but the first few share a class data
    // archive and start in half the time, as they would for a user's application.
    System.setProperty("flotilla.cds.dir", temp.resolve("cds").toString());
    pool =
        Pools.process(
            ProcessPool.builder()
                .workers(2)
                .maxTasksPerWorker(1)
                .classPath(JarredClassPath.of(temp.resolve("jars"))));
    int tasks = 60;
    List<CompletableFuture<long[]>> futures = new ArrayList<>();
    for (int i = 0; i < tasks; i++) {
      int n = i;
      futures.add(pool.submit(() -> new long[] {n, ProcessHandle.current().pid()}));
    }
    Set<Long> pids = new HashSet<>();
    for (int i = 0; i < tasks; i++) {
      long[] r =
          futures.get(i).get(TestTime.LONG.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
      assertThat(r[0]).isEqualTo(i);
      pids.add(r[1]);
    }
    assertThat(pids).as("a different worker process for every task").hasSize(tasks);
    assertThat(pool.stats().recycled()).isEqualTo(tasks);
    assertThat(pool.stats().crashes()).as("a retired worker is not a crash").isZero();
    assertThat(pool.stats().retries()).isZero();
  }

  @Test
  void aMapOverManyChunksCompletesInOrderAcrossRecycledWorkers() throws Exception {
    pool = Pools.process(ProcessPool.builder().workers(2).maxTasksPerWorker(3));
    List<Integer> out = new ArrayList<>();
    pool.map(
            (Integer x) -> x * x,
            IntStream.range(0, 40).boxed().toList(),
            MapOptions.defaults().chunkSize(4))
        .forEachRemaining(out::add);
    assertThat(out).isEqualTo(IntStream.range(0, 40).map(x -> x * x).boxed().toList());
    // Ten chunks: every worker is either retired after 3 or one of the 2 still running at the end
    // with at
    // most 2, so 10 <= 3 * recycled + 2 * 2, whatever the split between the workers.
    assertThat(pool.stats().recycled()).isGreaterThanOrEqualTo(2);
  }

  /** Held by the worker JVM that runs {@link #hoard}: what a leaking cache looks like. */
  static final java.util.List<byte[]> HOARD = new java.util.ArrayList<>();

  static long hoard(int megabytes) {
    for (int i = 0; i < megabytes; i++) {
      HOARD.add(new byte[1 << 20]);
    }
    System.gc();
    return ProcessHandle.current().pid();
  }

  @Test
  void aWorkerKeepingTooMuchHeapAfterCollectionsIsReplacedBetweenTasks() throws Exception {
    pool =
        Pools.process(
            ProcessPool.builder().workers(1).jvmArgs("-Xmx128m").recycleAboveHeap(32L << 20));
    long leaky = pool.submit(() -> hoard(48)).get(60, java.util.concurrent.TimeUnit.SECONDS);
    long next =
        pool.submit(() -> ProcessHandle.current().pid())
            .get(60, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(next).as("the next task runs in a fresh worker").isNotEqualTo(leaky);
    assertThat(pool.stats().recycled()).isEqualTo(1);
    assertThat(pool.stats().crashes()).isZero();
  }
}
