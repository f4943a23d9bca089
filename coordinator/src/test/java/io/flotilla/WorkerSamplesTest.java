package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flotilla.internal.FlotillaVersion;
import io.flotilla.internal.scheduler.ChunkScheduler;
import io.flotilla.internal.scheduler.WorkerSample;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Real worker JVMs report their resources about once a second over the link they already have, and
 * the coordinator keeps the latest per worker. The metrics made of them are {@code
 * WorkerSampleMetricsTest}'s; the sampler itself is {@code ResourceSamplerTest}'s.
 */
class WorkerSamplesTest extends PoolTestBase {
  private ProcessPool pool;

  @AfterEach
  void stop() throws Exception {
    Pools.shutDown(pool);
  }

  @Test
  void aWorkersSamplesArriveAndItIsHeardFromAgainAndAgain() throws Exception {
    pool = Pools.process(ProcessPool.builder().workers(1));
    assertThat(pool.submit(() -> 6 * 7).get(TestTime.LONG.toMillis(), TimeUnit.MILLISECONDS))
        .isEqualTo(42);

    ChunkScheduler.WorkerView first =
        await("a sample from the worker")
            .atMost(TestTime.scaled(java.time.Duration.ofSeconds(10)))
            .until(this::onlyWorker, w -> w != null && w.sample() != null);
    WorkerSample s = first.sample();
    assertThat(s.heapUsedBytes()).isPositive();
    assertThat(s.cpuNanos()).isPositive();
    if (Files.isReadable(Path.of("/proc/self/status"))) {
      assertThat(s.rssBytes()).isPositive();
    }
    assertThat(first.javaVersion()).isEqualTo(Runtime.version().toString());
    assertThat(first.flotillaVersion()).isEqualTo(FlotillaVersion.get());
    assertThat(first.state()).isEqualTo("ready");
    assertThat(first.chunksDone()).isEqualTo(1);
    assertThat(first.lastHeardNanos()).isGreaterThanOrEqualTo(first.sinceNanos());

    // An idle worker still samples: it is heard from again, and its next sample says how many
    // cores it used in between.
    ChunkScheduler.WorkerView later =
        await("a later sample")
            .atMost(TestTime.scaled(java.time.Duration.ofSeconds(10)))
            .until(
                this::onlyWorker,
                w ->
                    w != null
                        && w.lastHeardNanos() > first.lastHeardNanos()
                        && w.sample() != null
                        && w.sample().atNanos() > s.atNanos());
    assertThat(later.sample().coresUsed()).isNotNaN().isGreaterThanOrEqualTo(0);
    assertThat(later.sample().cpuNanos()).isGreaterThanOrEqualTo(s.cpuNanos());
  }

  private ChunkScheduler.WorkerView onlyWorker() {
    List<ChunkScheduler.WorkerView> views = pool.workerViews();
    return views.size() == 1 ? views.get(0) : null;
  }
}
