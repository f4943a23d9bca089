package io.flotilla.internal.metrics;

import io.flotilla.internal.scheduler.ChunkScheduler;
import io.flotilla.internal.scheduler.SchedulerMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import java.util.function.ToIntFunction;

/**
 * A pool's meters (a coordinator server's, or a local pool's with a dashboard), in Prometheus form.
 * Gauges read the scheduler's and the server's own views when scraped, so they cost nothing between
 * scrapes; counters are told by the scheduler as its events happen ({@link SchedulerMetrics}), off
 * its lock. Labels come from small fixed sets (state, cause, ending) or name a live worker: the
 * number of series stays bounded however much runs.
 */
public final class PoolMetrics implements SchedulerMetrics, AutoCloseable {
  /** The content type of {@link #scrape}: Prometheus' text format. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final JvmGcMetrics gc = new JvmGcMetrics();
  private final Counter itemsDispatched;
  private final Counter itemsCompleted;
  private final Counter itemsFailed;
  private final Counter itemsRetried;
  private final Counter itemsCancelled;
  private final Counter chunksDispatched;
  private final Counter chunksCompleted;
  private final Counter chunksFailed;
  private final Counter chunksCancelled;
  private final Counter chunksRequeued;
  private final Counter bytesSent;
  private final Counter bytesReceived;
  private final Timer roundTrip;
  private final Map<WorkerLoss, Counter> workerLosses = new EnumMap<>(WorkerLoss.class);
  private final WorkerSampleMetrics samples;

  /**
   * @param scheduler whose workers and queue the gauges read
   */
  public PoolMetrics(ChunkScheduler scheduler) {
    for (String state : List.of("ready", "retiring", "unreachable", "detached")) {
      gauge(
          "flotilla.workers",
          "Workers attached, by state: ready; retiring (finishing before it is replaced);"
              + " unreachable (its host cut off); detached (gone, its loss being looked into)",
          scheduler,
          s -> count(s.workers(), state),
          "state",
          state);
    }
    gauge(
        "flotilla.worker.threads",
        "Run threads of the ready workers, busy with a chunk or idle",
        scheduler,
        s -> sum(s.workers(), ChunkScheduler.WorkerView::busy),
        "state",
        "busy");
    gauge(
        "flotilla.worker.threads",
        "Run threads of the ready workers, busy with a chunk or idle",
        scheduler,
        s -> sum(s.workers(), w -> w.threads() - w.busy()),
        "state",
        "idle");
    gauge(
        "flotilla.queue.chunks",
        "Chunks queued, waiting for a worker with credit",
        scheduler,
        ChunkScheduler::queuedChunks);
    itemsDispatched =
        counter("flotilla.items.dispatched", "Items sent to workers, resends included");
    itemsCompleted = counter("flotilla.items.completed", "Items (and tasks) answered with a value");
    itemsFailed =
        counter(
            "flotilla.items.failed",
            "Items (and tasks) that failed: raised, timed out, or out of attempts");
    itemsRetried =
        counter(
            "flotilla.items.retried",
            "Items sent again because their worker was lost or cut off by the network");
    itemsCancelled =
        counter("flotilla.items.cancelled", "Items cancelled before they were answered");
    chunksDispatched = counter("flotilla.chunks.dispatched", "Chunks sent to workers");
    chunksCompleted = counter("flotilla.chunks.completed", "Chunks whose last result came back");
    chunksFailed =
        counter("flotilla.chunks.failed", "Chunks failed as a whole: out of attempts or timed out");
    chunksCancelled = counter("flotilla.chunks.cancelled", "Chunks cancelled");
    chunksRequeued =
        counter(
            "flotilla.chunks.requeued",
            "Chunks taken off a worker to run again: it was lost or cut off, or another was idle");
    bytesSent =
        Counter.builder("flotilla.payload.sent")
            .description("Encoded items sent to workers")
            .baseUnit("bytes")
            .register(registry);
    bytesReceived =
        Counter.builder("flotilla.payload.received")
            .description("Encoded results received from workers")
            .baseUnit("bytes")
            .register(registry);
    roundTrip =
        Timer.builder("flotilla.chunk.round.trip")
            .description("From a chunk's dispatch to its last result")
            // A dozen buckets from a millisecond to ten minutes: enough for quantiles of round
            // trips, and a bucket lookup per chunk several times cheaper than Micrometer's
            // percentile histogram, whose seventy-odd buckets were most of a chunk's metering cost.
            .serviceLevelObjectives(
                Duration.ofMillis(1),
                Duration.ofMillis(5),
                Duration.ofMillis(10),
                Duration.ofMillis(25),
                Duration.ofMillis(50),
                Duration.ofMillis(100),
                Duration.ofMillis(250),
                Duration.ofMillis(500),
                Duration.ofSeconds(1),
                Duration.ofSeconds(5),
                Duration.ofSeconds(30),
                Duration.ofMinutes(2),
                Duration.ofMinutes(10))
            .register(registry);
    for (WorkerLoss cause : WorkerLoss.values()) {
      workerLosses.put(
          cause,
          Counter.builder("flotilla.worker.losses")
              .description("Workers gone, by cause")
              .tag("cause", cause.tag())
              .register(registry));
    }
    samples = new WorkerSampleMetrics(scheduler::workers);
    samples.bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
  }

  /**
   * Adds the coordinator server's own gauges.
   *
   * @param clients the client sessions connected now
   * @param codeFetches the code bundles served to workers so far
   * @param serviceJobs the job service's jobs in a state (running, completed, cancelled)
   * @return this
   */
  public PoolMetrics server(
      IntSupplier clients,
      LongSupplier codeFetches,
      java.util.function.ToIntFunction<String> serviceJobs) {
    gauge(
        "flotilla.clients.connected",
        "Client sessions connected (ProcessPool.connect)",
        clients,
        IntSupplier::getAsInt);
    FunctionCounter.builder("flotilla.code.fetches", codeFetches, LongSupplier::getAsLong)
        .description("Code bundles served to workers")
        .register(registry);
    for (String state : List.of("running", "completed", "cancelled")) {
      gauge(
          "flotilla.service.jobs",
          "Job service jobs, by state (finished ones while kept for their results)",
          serviceJobs,
          f -> f.applyAsInt(state),
          "state",
          state);
    }
    return this;
  }

  /**
   * @return the registry, for meters kept elsewhere (each worker's samples)
   */
  public MeterRegistry registry() {
    return registry;
  }

  private <T> void gauge(
      String name, String help, T source, ToIntFunction<T> read, String... tags) {
    Gauge.builder(name, source, s -> read.applyAsInt(s))
        .description(help)
        .tags(tags)
        // The registry holds gauges weakly by default; these sources live as long as the pool.
        .strongReference(true)
        .register(registry);
  }

  private Counter counter(String name, String help) {
    return Counter.builder(name).description(help).register(registry);
  }

  private static int count(List<ChunkScheduler.WorkerView> workers, String state) {
    int n = 0;
    for (ChunkScheduler.WorkerView w : workers) {
      if (w.state().equals(state)) {
        n++;
      }
    }
    return n;
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
    samples.refresh();
    registry.scrape(out);
  }

  @Override
  public void chunkSent(Sent sent) {
    chunksDispatched.increment();
    itemsDispatched.increment(sent.items());
    bytesSent.increment((double) sent.bytes());
  }

  @Override
  public void chunkLeft(Stay stay) {
    switch (stay.ending()) {
      case DONE -> {
        chunksCompleted.increment();
        roundTrip.record(stay.endNanos() - stay.sentNanos(), TimeUnit.NANOSECONDS);
      }
      case FAILED -> chunksFailed.increment();
      case CANCELLED -> chunksCancelled.increment();
      case REQUEUED, LOST -> chunksRequeued.increment();
    }
  }

  @Override
  public void itemsAnswered(long jobId, int completed, int failed, long bytes) {
    itemsCompleted.increment(completed);
    itemsFailed.increment(failed);
    bytesReceived.increment((double) bytes);
  }

  @Override
  public void itemsFailed(long jobId, long items) {
    itemsFailed.increment((double) items); // exact below 2^53 items
  }

  @Override
  public void itemsCancelled(long jobId, long items) {
    itemsCancelled.increment((double) items);
  }

  @Override
  public void itemsRetried(long jobId, long items) {
    itemsRetried.increment((double) items);
  }

  @Override
  public void workerLost(String worker, String host, WorkerLoss cause) {
    workerLosses.get(cause).increment();
  }

  /** Stops the garbage-collection listener, which would otherwise outlive the pool. */
  @Override
  public void close() {
    gc.close();
    registry.close();
  }
}
