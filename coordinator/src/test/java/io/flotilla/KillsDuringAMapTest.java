package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code kill -9} of a worker several times in the middle of one map: the results equal a serial
 * run, with no item missing or repeated. (The same, at scale and as a command: {@code flotilla
 * chaos}.)
 */
@FlotillaTest
class KillsDuringAMapTest {
  private ProcessPool pool;

  @AfterEach
  void stop() throws Exception {
    Pools.shutDown(pool);
  }

  /** Slow enough that the map spans the kills: about a millisecond per item. */
  private static long work(int x) throws InterruptedException {
    TimeUnit.MICROSECONDS.sleep(800);
    return (long) x * x + 7;
  }

  @Test
  void threeKillsDuringOneMapLoseAndRepeatNothing() throws Exception {
    pool = Pools.process(ProcessPool.builder().workers(2).maxAttempts(5));
    Pools.awaitAllWorkersReady(pool);
    List<Integer> input = IntStream.range(0, 3000).boxed().toList();
    List<Long> serial = new ArrayList<>();
    for (int x : input) {
      serial.add((long) x * x + 7);
    }
    List<Long> out = new ArrayList<>();
    try (MapResults<Long> results = pool.map(KillsDuringAMapTest::work, input)) {
      for (int kill = 1; kill <= 3; kill++) {
        long threshold = (long) input.size() * kill / 4;
        // Consume while waiting, so the window keeps moving.
        while (results.completed() < threshold && results.hasNext()) {
          out.add(results.next());
        }
        List<Long> pids = pool.workerPids();
        assertThat(pids).isNotEmpty();
        ProcessHandle.of(pids.get(kill % pids.size())).ifPresent(ProcessHandle::destroyForcibly);
        long kills = kill;
        await("the kill to be noticed")
            .atMost(TestTime.LONG)
            .until(() -> pool.stats().crashes() >= kills);
      }
      results.forEachRemaining(out::add);
    }
    assertThat(out).isEqualTo(serial);
    assertThat(pool.stats().crashes()).isGreaterThanOrEqualTo(3);
  }
}
