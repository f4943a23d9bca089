package io.flotilla.internal.metrics;

import io.flotilla.internal.scheduler.ChunkScheduler;
import io.flotilla.internal.scheduler.SchedulerMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;
import java.util.function.ToIntFunction;

/**
 * A coordinator server's meters, in Prometheus form. Gauges read the scheduler's and the server's
 * own views when scraped, so they cost nothing between scrapes; counters are told by the scheduler
 * as its events happen ({@link SchedulerMetrics}). Nothing is labelled per item, task, job or
 * worker, so the number of series stays fixed however much runs.
 */
public final class ClusterMetrics implements SchedulerMetrics, AutoCloseable {
  /** The content type of {@link #scrape}: Prometheus' text format. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final JvmGcMetrics gc = new JvmGcMetrics();
  private final Counter itemsCompleted;
  private final Counter itemsFailed;
  private final Counter chunksDispatched;
  private final Counter chunksCompleted;
  private final Counter chunksRequeued;
  private final Map<WorkerLoss, Counter> workerLosses = new EnumMap<>(WorkerLoss.class);

  /**
   * @param scheduler whose workers and queue the gauges read
   * @param clients the client sessions connected now
   */
  public ClusterMetrics(ChunkScheduler scheduler, IntSupplier clients) {
    gauge(
        "flotilla.workers",
        "Workers attached and ready for work",
        scheduler,
        s -> s.workers().size(),
        "state",
        "ready");
    gauge(
        "flotilla.worker.threads",
        "Run threads of the ready workers, busy with a chunk or idle",
        scheduler,
        s -> sum(s.workers(), ClusterMetrics::busy),
        "state",
        "busy");
    gauge(
        "flotilla.worker.threads",
        "Run threads of the ready workers, busy with a chunk or idle",
        scheduler,
        s -> sum(s.workers(), w -> w.threads() - busy(w)),
        "state",
        "idle");
    gauge(
        "flotilla.queue.chunks",
        "Chunks queued, waiting for a worker with credit",
        scheduler,
        ChunkScheduler::queuedChunks);
    gauge(
        "flotilla.clients.connected",
        "Client sessions connected (ProcessPool.connect)",
        clients,
        IntSupplier::getAsInt);
    itemsCompleted = counter("flotilla.items.completed", "Items (and tasks) answered with a value");
    itemsFailed =
        counter(
            "flotilla.items.failed",
            "Items (and tasks) that failed: raised, timed out, or out of attempts");
    chunksDispatched = counter("flotilla.chunks.dispatched", "Chunks sent to workers");
    chunksCompleted = counter("flotilla.chunks.completed", "Chunks whose last result came back");
    chunksRequeued =
        counter(
            "flotilla.chunks.requeued",
            "Chunks taken off a worker to run again: it was lost or cut off, or another was idle");
    for (WorkerLoss cause : WorkerLoss.values()) {
      workerLosses.put(
          cause,
          Counter.builder("flotilla.worker.losses")
              .description("Workers gone from the coordinator, by cause")
              .tag("cause", cause.tag())
              .register(registry));
    }
    new JvmMemoryMetrics().bindTo(registry);
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
  }

  private <T> void gauge(
      String name, String help, T source, ToIntFunction<T> read, String... tags) {
    Gauge.builder(name, source, s -> read.applyAsInt(s))
        .description(help)
        .tags(tags)
        // The registry holds gauges weakly by default; these sources live as long as the server.
        .strongReference(true)
        .register(registry);
  }

  private Counter counter(String name, String help) {
    return Counter.builder(name).description(help).register(registry);
  }

  private static int busy(ChunkScheduler.WorkerView w) {
    return w.busy();
  }

  private static int sum(
      List<ChunkScheduler.WorkerView> workers, ToIntFunction<ChunkScheduler.WorkerView> each) {
    int total = 0;
    for (ChunkScheduler.WorkerView w : workers) {
      total += each.applyAsInt(w);
    }
    return total;
  }

  /**
   * Writes every meter's current value in Prometheus' text format ({@link #CONTENT_TYPE}).
   *
   * @param out where to
   * @throws IOException if writing fails
   */
  public void scrape(OutputStream out) throws IOException {
    registry.scrape(out);
  }

  @Override
  public void chunksDispatched(int chunks) {
    chunksDispatched.increment(chunks);
  }

  @Override
  public void chunksCompleted(int chunks) {
    chunksCompleted.increment(chunks);
  }

  @Override
  public void chunksRequeued(int chunks) {
    chunksRequeued.increment(chunks);
  }

  @Override
  public void itemsCompleted(long items) {
    itemsCompleted.increment((double) items); // exact below 2^53 items
  }

  @Override
  public void itemsFailed(long items) {
    itemsFailed.increment((double) items);
  }

  @Override
  public void workerLost(WorkerLoss cause) {
    workerLosses.get(cause).increment();
  }

  /** Stops the garbage-collection listener, which would otherwise outlive the server. */
  @Override
  public void close() {
    gc.close();
    registry.close();
  }
}
