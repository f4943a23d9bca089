package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A chunk that runs long, or collects megabytes of results, sends them as it goes: the caller reads
 * the first results of a chunk while its last items are still running, and a worker killed after
 * sending some of them costs only the rest, which run again elsewhere, with nothing missing or
 * repeated.
 */
class PartialResultsTest extends PoolTestBase {
  private static final int MIB = 1 << 20;
  private ProcessPool pool;

  @AfterEach
  void stop() throws Exception {
    Pools.shutDown(pool);
  }

  @Test
  void megabytesOfResultsReachTheCallerBeforeTheirChunkEnds() throws Exception {
    pool = Pools.process(ProcessPool.builder().workers(1));
    String gate = signals.gate("rest");
    SerializableFunction<Integer, byte[]> fn =
        i -> {
          if (i >= 12) {
            Signals.await(gate);
          }
          byte[] block = new byte[MIB];
          block[0] = (byte) i.intValue();
          return block;
        };
    try (MapResults<byte[]> results =
        pool.map(
            fn, IntStream.range(0, 16).boxed().toList(), MapOptions.defaults().chunkSize(16))) {
      List<Integer> firsts = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        // The chunk is still held at item 12 by the gate: these came in partial results.
        firsts.add((int) results.next()[0]);
      }
      assertThat(firsts).containsExactly(0, 1, 2, 3, 4, 5, 6, 7);
      assertThat(results.completed()).isLessThan(16);
      signals.open(gate);
      while (results.hasNext()) {
        firsts.add((int) results.next()[0]);
      }
      assertThat(firsts).isEqualTo(IntStream.range(0, 16).boxed().toList());
    }
  }

  @Test
  void aWorkerKilledAfterSendingPartOfAChunkCostsOnlyTheRest() throws Exception {
    // One worker: no idle worker to steal half of the chunk, which must run whole on the one
    // killed.
    pool = Pools.process(ProcessPool.builder().workers(1));
    String dir = signals.dir();
    String gate = signals.gate("kill");
    SerializableFunction<Integer, Integer> fn =
        i -> {
          if (i == 10) {
            // Mark the worker running the chunk's middle, then hold it until the test kills it.
            Signals.touch(dir + "/holder-" + ProcessHandle.current().pid());
            Signals.touch(dir + "/ran-10-" + System.nanoTime());
            if (!java.nio.file.Files.exists(java.nio.file.Path.of(dir, "killed"))) {
              Signals.await(gate);
            }
          } else if (i < 10) {
            // Longer than a time slice (10 ms): each of the first ten goes out in its own partial
            // result.
            long until = System.nanoTime() + 20_000_000L;
            while (System.nanoTime() < until) {
              Thread.onSpinWait();
            }
          }
          Signals.touch(dir + "/ran-" + i + "-" + System.nanoTime());
          return i * 3;
        };
    try (MapResults<Integer> results =
        pool.map(
            fn, IntStream.range(0, 20).boxed().toList(), MapOptions.defaults().chunkSize(20))) {
      List<Integer> got = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        got.add(results.next());
      }
      org.awaitility.Awaitility.await("the chunk to reach item 10")
          .atMost(TestTime.LONG)
          .until(() -> !signals.list("holder-").isEmpty());
      long holder = Long.parseLong(signals.list("holder-").get(0).substring("holder-".length()));
      Signals.touch(signals.marker("killed"));
      Processes.kill(holder);
      while (results.hasNext()) {
        got.add(results.next());
      }
      assertThat(got).isEqualTo(IntStream.range(0, 20).map(i -> i * 3).boxed().toList());
    }
    for (int i = 0; i < 10; i++) {
      assertThat(signals.list("ran-" + i + "-"))
          .as("item %d was answered in a partial result before the kill, and never ran again", i)
          .hasSize(1);
    }
    assertThat(pool.stats().crashes()).isEqualTo(1);
  }

  @Test
  void largeResultsThatNobodyReadsDoNotPileUpInTheCaller() throws Exception {
    pool = Pools.process(ProcessPool.builder().workers(1));
    SerializableFunction<Integer, byte[]> fn =
        i -> {
          byte[] block = new byte[MIB];
          block[0] = (byte) i.intValue();
          return block;
        };
    int n = 160;
    try (MapResults<byte[]> results =
        pool.map(fn, IntStream.range(0, n).boxed().toList(), MapOptions.defaults().chunkSize(n))) {
      await("results to start arriving")
          .atMost(TestTime.LONG)
          .until(() -> results.completed() >= 8);
      // One chunk of 160 MiB of results, and a reader that does not read: the chunk is split into
      // parts
      // of a few megabytes, which stop once 32 MiB wait to be read.
      await("the results held to stay bounded")
          .during(Duration.ofMillis(500))
          .atMost(TestTime.LONG)
          .until(() -> results.completed() <= 48);
      for (int i = 0; i < n; i++) {
        assertThat(results.next()[0]).as("item %d", i).isEqualTo((byte) i);
      }
      assertThat(results.hasNext()).isFalse();
    }
  }

  @Test
  void asCompletedReadsTheFirstResultsOfAChunkWhileItRuns() throws Exception {
    pool = Pools.process(ProcessPool.builder().workers(1));
    String gate = signals.gate("rest");
    SerializableFunction<Integer, Integer> fn =
        i -> {
          if (i >= 5) {
            Signals.await(gate);
          } else {
            // Longer than a time slice (10 ms): each goes out in its own piece.
            long until = System.nanoTime() + 12_000_000L;
            while (System.nanoTime() < until) {
              Thread.onSpinWait();
            }
          }
          return i * 2;
        };
    try (MapResults<Integer> results =
        pool.mapUnordered(
            fn, IntStream.range(0, 10).boxed().toList(), MapOptions.defaults().chunkSize(10))) {
      // The chunk is held at item 5 by the gate: the first five came in pieces.
      List<Integer> first =
          java.util.concurrent.CompletableFuture.supplyAsync(
                  () -> {
                    List<Integer> got = new ArrayList<>();
                    for (int i = 0; i < 5; i++) {
                      got.add(results.next());
                    }
                    return got;
                  })
              .get(TestTime.LONG.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
      assertThat(first).containsExactlyInAnyOrder(0, 2, 4, 6, 8);
      signals.open(gate);
      List<Integer> rest = new ArrayList<>();
      results.forEachRemaining(rest::add);
      assertThat(rest).containsExactlyInAnyOrder(10, 12, 14, 16, 18);
    }
  }
}
