package io.flotilla.microbench;

import io.flotilla.internal.dashboard.FleetWatch;
import io.flotilla.internal.map.JobLabel;
import io.flotilla.internal.metrics.PoolMetrics;
import io.flotilla.internal.scheduler.ChunkScheduler;
import io.flotilla.internal.scheduler.SchedulerMetrics;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What watching a pool costs per chunk: the events a scheduler tells its {@link SchedulerMetrics}
 * for one chunk of one no-op task (one {@code chunkSent}, one {@code itemsAnswered(job, 1, 0,
 * bytes)}, one {@code chunkLeft} that ended {@code DONE}), told straight to the watcher, in
 * nanoseconds per chunk. The watchers: {@code none} ({@link SchedulerMetrics#NONE}: a local pool
 * without a dashboard), {@code metrics} ({@link PoolMetrics} alone: Micrometer counters and a
 * histogram timer in a Prometheus registry, to tell its share) and {@code dashboard} ({@link
 * PoolMetrics} then {@link FleetWatch}, whose every event takes its lock: what a coordinator server
 * and a local pool with a dashboard have). {@link #twoThreads} tells them from two threads at once,
 * as two network threads settling results do.
 *
 * <p>Why: the end-to-end bench ({@code flotilla bench --only metrics}) could not tell the watchers'
 * cost from the machine's noise. {@code DispatchBenchmark -p watch=...} measures the same watchers
 * through the whole scheduler round, including the events the scheduler builds and queues for them.
 *
 * <p>How close to a pool: each thread's chunk ids grow as the scheduler's do (boxed beyond the
 * cache, as the dashboard keys its running chunks by them), chunks go round {@link #WORKERS}
 * workers and stay {@link #IN_FLIGHT} chunks on them before they leave, so the dashboard's running
 * chunks and lanes are not one entry each, and its spans fill to their bound within the warm-up
 * (steady state). Round trips vary between about 0.1 and 10 ms over the timer's buckets. The clock
 * is made up: reading the real one would cost the same in every case and blur the difference.
 * Nothing scrapes meanwhile; the dashboard builds a snapshot a second on a thread of its own, as
 * its server does.
 *
 * <p>What {@code none} includes: the benchmark's own bookkeeping (numbering the chunks, and
 * building the event records, which the scheduler does not do while nobody watches). Subtract it
 * from the others for the watchers' own cost.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
// A small, fixed heap: see the package documentation.
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms256m", "-Xmx256m"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 4, time = 1)
public class WatchBenchmark {
  /** Workers the chunks go round. */
  private static final int WORKERS = 4;

  /** Chunks a thread keeps on workers before the oldest leaves. */
  private static final int IN_FLIGHT = 8;

  /** Round trips drawn in turn; a power of two, for the mask. */
  private static final int ROUND_TRIPS = 1024;

  /** A local pool's tasks' job: the one the dashboard makes when it first sees it. */
  private static final long TASKS_JOB = 0;

  /** Encoded size of a no-op task's lambda and of its answer, as {@code CodecBenchmark} sees. */
  private static final long SENT_BYTES = 180;

  private static final long ANSWER_BYTES = 8;

  /** The watcher, shared by every thread, as a pool's is. */
  @State(Scope.Benchmark)
  public static class Watcher {
    /** none, metrics (a server's meters) or dashboard (meters and the dashboard's model). */
    @Param({"none", "metrics", "dashboard"})
    public String watch;

    ChunkScheduler scheduler;
    PoolMetrics meters;
    SchedulerMetrics watcher;
    java.util.concurrent.ScheduledExecutorService ticker;
    final AtomicInteger threads = new AtomicInteger();

    /** A scheduler without workers, which the watchers read only when scraped. */
    @Setup(Level.Trial)
    public void setUp() {
      scheduler = new ChunkScheduler(3);
      meters = watch.equals("none") ? null : new PoolMetrics(scheduler);
      if (watch.equals("dashboard")) {
        FleetWatch fleet = new FleetWatch("local pool", "bench", scheduler, () -> 0);
        watcher = SchedulerMetrics.both(meters, fleet);
        // As the dashboard's server does: a snapshot a second, under the dashboard's lock.
        ticker = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        var unused = ticker.scheduleAtFixedRate(fleet::tick, 1, 1, TimeUnit.SECONDS);
      } else {
        watcher = watcher(watch, scheduler, meters);
      }
      if (watcher != SchedulerMetrics.NONE) {
        watcher.jobOpened(TASKS_JOB, "local", JobLabel.TASKS);
      }
    }

    /** Stops the meters' GC listener and the scheduler's timers. */
    @TearDown(Level.Trial)
    public void tearDown() {
      if (ticker != null) {
        ticker.shutdownNow();
      }
      if (meters != null) {
        meters.close();
      }
      scheduler.close();
    }
  }

  /**
   * The watcher: none, the meters alone, or the meters then the dashboard's model, combined as
   * {@code ProcessPool} and {@code CoordinatorServer} combine them.
   *
   * @param watch none, metrics or dashboard
   * @param scheduler what the dashboard's snapshots read
   * @param meters the meters, made on {@code scheduler}; null for none
   * @return the watcher
   * @throws IllegalArgumentException for another {@code watch}
   */
  public static SchedulerMetrics watcher(
      String watch, ChunkScheduler scheduler, PoolMetrics meters) {
    return switch (watch) {
      case "none" -> SchedulerMetrics.NONE;
      case "metrics" -> meters;
      case "dashboard" ->
          SchedulerMetrics.both(meters, new FleetWatch("local pool", "bench", scheduler, () -> 0));
      default ->
          throw new IllegalArgumentException(
              "watch must be none, metrics or dashboard, was " + watch);
    };
  }

  /**
   * One thread's chunks: ids of its own, and those it has on workers now. What a chunk in flight
   * was sent with follows from its number, so nothing is stored per chunk: a chunk's record kept in
   * a long-lived array cost each thread a garbage collector's write barrier per store, and with two
   * threads the arrays (promoted side by side) shared cache lines, adding about 60 ns per chunk to
   * every case.
   */
  @State(Scope.Thread)
  public static class Chunks {
    private final String[] workers = new String[WORKERS];
    private final long[] roundTrips = new long[ROUND_TRIPS];
    private long firstId;
    private long n;
    private long originNanos;

    /**
     * Ids apart from other threads', the same worker names as theirs, round trips log-uniform
     * between 0.1 and 10 ms.
     */
    @Setup(Level.Trial)
    public void setUp(Watcher w) {
      int thread = w.threads.getAndIncrement();
      firstId = 1_000_000L + ((long) thread << 40);
      for (int i = 0; i < WORKERS; i++) {
        workers[i] = "worker-" + (i + 1);
      }
      SplittableRandom random = new SplittableRandom(42 + thread);
      for (int i = 0; i < ROUND_TRIPS; i++) {
        roundTrips[i] = (long) (100_000 * Math.pow(100, random.nextDouble()));
      }
      originNanos = System.nanoTime();
    }

    /** When chunk {@code i} was sent, on the made-up clock: one every 20 us. */
    private long sentNanos(long i) {
      return originNanos + i * 20_000;
    }

    /**
     * One chunk's events: chunk {@code n} is sent, and chunk {@code n - IN_FLIGHT} is answered and
     * leaves.
     */
    void cycle(SchedulerMetrics m) {
      long i = n++;
      m.chunkSent(
          new SchedulerMetrics.Sent(
              TASKS_JOB, firstId + i, workers[(int) (i % WORKERS)], 1, SENT_BYTES, sentNanos(i)));
      long j = i - IN_FLIGHT;
      if (j >= 0) {
        long roundTrip = roundTrips[(int) (j & (ROUND_TRIPS - 1))];
        m.itemsAnswered(TASKS_JOB, 1, 0, ANSWER_BYTES);
        m.chunkLeft(
            new SchedulerMetrics.Stay(
                TASKS_JOB,
                firstId + j,
                workers[(int) (j % WORKERS)],
                1,
                0,
                sentNanos(j),
                sentNanos(j) + roundTrip,
                roundTrip / 2,
                SchedulerMetrics.Ending.DONE));
      }
    }
  }

  /** One chunk's events, on one thread. */
  @Benchmark
  public void oneThread(Watcher w, Chunks c) {
    c.cycle(w.watcher);
  }

  /** One chunk's events, on each of two threads at once telling the same watcher. */
  @Benchmark
  @Threads(2)
  public void twoThreads(Watcher w, Chunks c) {
    c.cycle(w.watcher);
  }
}
