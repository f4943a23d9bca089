package io.flotilla.internal.metrics;

import io.flotilla.internal.scheduler.ChunkScheduler;
import io.flotilla.internal.scheduler.WorkerSample;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Each live worker's resources, as its latest Sample gave them, one series per worker labelled
 * {@code worker} (its id) and {@code host}:
 *
 * <ul>
 *   <li>{@code flotilla_worker_heap_used_bytes}, {@code flotilla_worker_heap_max_bytes} (0: no
 *       limit);
 *   <li>{@code flotilla_worker_resident_memory_bytes} (0: unknown, not Linux);
 *   <li>{@code flotilla_worker_cpu_cores}: processors it kept busy between its last two samples
 *       (absent until it has sent two);
 *   <li>{@code flotilla_worker_gc_pause_seconds_total}: time its collections took so far, a
 *       counter;
 *   <li>{@code flotilla_worker_last_heard_seconds}: since its last message of any kind (every
 *       worker has this one, sample or not).
 * </ul>
 *
 * <p>Series are bounded by the workers alive now: each {@link #refresh()} reads the workers afresh,
 * and drops the series of those gone, so a fleet that churns through workers does not grow the
 * page. Call {@code refresh()} just before each scrape; between refreshes the values stand still. A
 * worker with no sample yet shows only its last-heard gauge.
 *
 * <p>Threading: {@link #bindTo} and {@link #refresh} are synchronized, and cheap: they read the
 * scheduler's view (which takes its lock briefly) and re-register a handful of gauges per worker.
 */
public final class WorkerSampleMetrics implements MeterBinder {
  private final Supplier<List<ChunkScheduler.WorkerView>> workers;
  private final LongSupplier nanoTime;

  private MeterRegistry registry; // guarded by this
  private MultiGauge heapUsed; // guarded by this
  private MultiGauge heapMax; // guarded by this
  private MultiGauge resident; // guarded by this
  private MultiGauge cpuCores; // guarded by this
  private MultiGauge lastHeard; // guarded by this

  /**
   * Each live worker's GC counter, by worker id, so that it can be removed when the worker goes.
   */
  private final Map<String, GcTotal> gcTotals = new HashMap<>(); // guarded by this

  /** A worker's GC time so far, which its counter reads; set by refresh. */
  private static final class GcTotal {
    final FunctionCounter counter;
    volatile double seconds;

    GcTotal(MeterRegistry registry, Tags tags, double seconds) {
      this.seconds = seconds;
      this.counter =
          FunctionCounter.builder("flotilla.worker.gc.pause", this, t -> t.seconds)
              .description("Time a worker's garbage collections took, so far")
              .baseUnit("seconds")
              .tags(tags)
              .register(registry);
    }
  }

  /**
   * @param workers the workers alive now, e.g. {@link ChunkScheduler#workers}
   */
  public WorkerSampleMetrics(Supplier<List<ChunkScheduler.WorkerView>> workers) {
    this(workers, System::nanoTime);
  }

  /**
   * @param workers the workers alive now
   * @param nanoTime the clock their {@code lastHeardNanos} are read by, {@link System#nanoTime()}
   */
  WorkerSampleMetrics(Supplier<List<ChunkScheduler.WorkerView>> workers, LongSupplier nanoTime) {
    this.workers = workers;
    this.nanoTime = nanoTime;
  }

  /**
   * Registers the meters (empty until the first {@link #refresh()}).
   *
   * @param registry where
   * @throws IllegalStateException if already bound
   */
  @Override
  public synchronized void bindTo(MeterRegistry registry) {
    if (this.registry != null) {
      throw new IllegalStateException("already bound to a registry");
    }
    this.registry = registry;
    heapUsed =
        gauge("flotilla.worker.heap.used", BaseUnits.BYTES, "Heap a worker has in use", registry);
    heapMax =
        gauge(
            "flotilla.worker.heap.max",
            BaseUnits.BYTES,
            "The most a worker's heap may grow to; 0 when its JVM sets no limit",
            registry);
    resident =
        gauge(
            "flotilla.worker.resident.memory",
            BaseUnits.BYTES,
            "Resident memory of a worker's process; 0 when unknown",
            registry);
    cpuCores =
        gauge(
            "flotilla.worker.cpu.cores",
            null,
            "Processors a worker kept busy between its last two samples",
            registry);
    lastHeard =
        gauge(
            "flotilla.worker.last.heard",
            "seconds",
            "Time since a worker's last message of any kind",
            registry);
  }

  private static MultiGauge gauge(String name, String unit, String help, MeterRegistry registry) {
    MultiGauge.Builder b = MultiGauge.builder(name).description(help);
    if (unit != null) {
      b.baseUnit(unit);
    }
    return b.register(registry);
  }

  /**
   * Reads the workers and their latest samples into the meters: call just before a scrape. Series
   * of workers gone since the last call are removed.
   *
   * @throws IllegalStateException if not bound to a registry yet
   */
  public synchronized void refresh() {
    if (registry == null) {
      throw new IllegalStateException("not bound to a registry: call bindTo first");
    }
    List<ChunkScheduler.WorkerView> now = workers.get();
    long at = nanoTime.getAsLong();
    List<MultiGauge.Row<?>> used = new ArrayList<>(now.size());
    List<MultiGauge.Row<?>> max = new ArrayList<>(now.size());
    List<MultiGauge.Row<?>> rss = new ArrayList<>(now.size());
    List<MultiGauge.Row<?>> cores = new ArrayList<>(now.size());
    List<MultiGauge.Row<?>> heard = new ArrayList<>(now.size());
    Set<String> alive = new HashSet<>();
    for (ChunkScheduler.WorkerView w : now) {
      Tags tags = Tags.of("worker", w.id(), "host", w.host());
      alive.add(w.id());
      heard.add(MultiGauge.Row.of(tags, Math.max(0, at - w.lastHeardNanos()) / 1e9));
      WorkerSample s = w.sample();
      if (s == null) {
        continue;
      }
      used.add(MultiGauge.Row.of(tags, s.heapUsedBytes()));
      max.add(MultiGauge.Row.of(tags, s.heapMaxBytes()));
      rss.add(MultiGauge.Row.of(tags, s.rssBytes()));
      if (!Double.isNaN(s.coresUsed())) {
        cores.add(MultiGauge.Row.of(tags, s.coresUsed()));
      }
      double gcSeconds = s.gcNanos() / 1e9;
      GcTotal gc = gcTotals.get(w.id());
      if (gc == null) {
        gcTotals.put(w.id(), new GcTotal(registry, tags, gcSeconds));
      } else {
        gc.seconds = gcSeconds;
      }
    }
    heapUsed.register(used, true);
    heapMax.register(max, true);
    resident.register(rss, true);
    cpuCores.register(cores, true);
    lastHeard.register(heard, true);
    for (Iterator<Map.Entry<String, GcTotal>> i = gcTotals.entrySet().iterator(); i.hasNext(); ) {
      Map.Entry<String, GcTotal> e = i.next();
      if (!alive.contains(e.getKey())) {
        registry.remove(e.getValue().counter);
        i.remove();
      }
    }
  }
}
