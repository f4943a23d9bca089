package io.flotilla.internal.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.internal.scheduler.ChunkScheduler.WorkerView;
import io.flotilla.internal.scheduler.WorkerSample;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The per-worker series as Prometheus reads them: one per live worker, gone with the worker. The
 * samples' arrival from real workers is {@code io.flotilla.WorkerSamplesTest}'s.
 */
class WorkerSampleMetricsTest {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final List<WorkerView> workers = new ArrayList<>();
  private final AtomicLong clock = new AtomicLong(100_000_000_000L);
  private final WorkerSampleMetrics metrics =
      new WorkerSampleMetrics(() -> List.copyOf(workers), clock::get);

  private static WorkerView worker(String id, String host, long lastHeard, WorkerSample sample) {
    return new WorkerView(id, host, 1, 4, 1, 0, 0, "17", "0.1.0", 0, lastHeard, sample, 0, "ready");
  }

  @Test
  void eachLiveWorkerHasItsSeriesAndAGoneWorkerLosesThem() {
    metrics.bindTo(registry);
    long now = clock.get();
    workers.add(
        worker(
            "w1",
            "alpha",
            now - 2_500_000_000L,
            new WorkerSample(
                now, 64 << 20, 1 << 30, 200 << 20, 9_000_000_000L, 7, 1_500_000_000L, 0.75)));
    workers.add(worker("w2", "beta", now, null));
    metrics.refresh();
    String page = registry.scrape();

    assertThat(value(page, "flotilla_worker_heap_used_bytes{host=\"alpha\",worker=\"w1\"}"))
        .isEqualTo(64 << 20);
    assertThat(value(page, "flotilla_worker_heap_max_bytes{host=\"alpha\",worker=\"w1\"}"))
        .isEqualTo(1 << 30);
    assertThat(value(page, "flotilla_worker_resident_memory_bytes{host=\"alpha\",worker=\"w1\"}"))
        .isEqualTo(200 << 20);
    assertThat(value(page, "flotilla_worker_cpu_cores{host=\"alpha\",worker=\"w1\"}"))
        .isEqualTo(0.75);
    assertThat(value(page, "flotilla_worker_gc_pause_seconds_total{host=\"alpha\",worker=\"w1\"}"))
        .isEqualTo(1.5);
    assertThat(value(page, "flotilla_worker_last_heard_seconds{host=\"alpha\",worker=\"w1\"}"))
        .isEqualTo(2.5);
    // No sample yet: only when it was last heard from.
    assertThat(value(page, "flotilla_worker_last_heard_seconds{host=\"beta\",worker=\"w2\"}"))
        .isZero();
    assertThat(page).doesNotContain("heap_used_bytes{host=\"beta\"");
    assertThat(page)
        .contains("# TYPE flotilla_worker_gc_pause_seconds_total counter")
        .contains("# TYPE flotilla_worker_heap_used_bytes gauge")
        .contains("# HELP flotilla_worker_cpu_cores");

    // w1 goes; w2 sends its first sample, with nothing to compare it with yet.
    clock.addAndGet(1_000_000_000L);
    workers.remove(0);
    workers.set(
        0,
        worker(
            "w2",
            "beta",
            clock.get(),
            new WorkerSample(clock.get(), 1, 2, 0, 5, 0, 0, Double.NaN)));
    metrics.refresh();
    page = registry.scrape();
    assertThat(page).doesNotContain("worker=\"w1\"");
    assertThat(value(page, "flotilla_worker_heap_used_bytes{host=\"beta\",worker=\"w2\"}"))
        .isEqualTo(1);
    assertThat(value(page, "flotilla_worker_gc_pause_seconds_total{host=\"beta\",worker=\"w2\"}"))
        .isZero();
    assertThat(page).doesNotContain("flotilla_worker_cpu_cores{");

    workers.clear();
    metrics.refresh();
    assertThat(registry.scrape()).doesNotContain("worker=\"");
  }

  @Test
  void itMustBeBoundOnceBeforeItRefreshes() {
    assertThatThrownBy(metrics::refresh).isInstanceOf(IllegalStateException.class);
    metrics.bindTo(registry);
    assertThatThrownBy(() -> metrics.bindTo(registry)).isInstanceOf(IllegalStateException.class);
  }

  private static double value(String page, String sample) {
    for (String line : page.split("\n")) {
      if (line.startsWith(sample + " ")) {
        return Double.parseDouble(line.substring(sample.length() + 1).trim());
      }
    }
    throw new AssertionError("no sample " + sample + " in:\n" + page);
  }
}
