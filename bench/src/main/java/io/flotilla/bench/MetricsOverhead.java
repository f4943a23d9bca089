package io.flotilla.bench;

import io.flotilla.MapResults;
import io.flotilla.ProcessPool;
import io.flotilla.SerializableFunction;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;

/**
 * {@code metrics}: what a pool's dashboard costs its throughput. The same two workloads on three
 * pools of N worker JVMs, alive side by side for the whole benchmark:
 *
 * <ul>
 *   <li>{@code process}: a plain {@code ProcessPool}, no dashboard: the baseline;
 *   <li>{@code process+metrics}: with {@code dashboard("127.0.0.1:0")}: every chunk counted for the
 *       Prometheus metrics and the dashboard's model, nobody reading them;
 *   <li>{@code process+metrics+watched}: the same, with a reader in this JVM: {@code /api/events}
 *       read continuously, as an open dashboard page does, and {@code /metrics} scraped once a
 *       second, as Prometheus does, both with the JDK's {@link HttpClient}.
 * </ul>
 *
 * <p>Workloads: {@code metrics-submit}, no-op tasks submitted back to back as in {@code submit};
 * {@code metrics-map1m}, a million trivial items through {@code map} with default options as in
 * {@code map1m}. Every pool is warmed with both until it has had the session's warm-up time, and
 * runs each workload once more, untimed, just before its timed runs; then the timed repetitions
 * ({@value #REPETITIONS} per pool, 6 with {@code --quick}) take the pools in turn, in each of the
 * six orders equally often, so that a noisy stretch of the machine falls on every lane alike. Each
 * row reports the median time, and {@code vs_off}: the median over the rounds of the plain pool's
 * time divided by this pool's in the same round, a ratio of rates (1 for the plain pool itself;
 * below 1: slower than without a dashboard). Every timed run's seconds, and the quartiles of the
 * rounds' ratios, go to the progress output, so that the spread behind a median can be judged.
 *
 * <p>The watched rows also carry {@code events_read} and {@code scrapes}: the snapshots the reader
 * received and the {@code /metrics} pages it fetched during that workload's timed runs. The watched
 * {@code metrics-map1m} row adds {@code snapshot_bytes}, the size of the snapshot the reader
 * received once the last map was done, and {@code snapshot_max_bytes}, the largest it received in
 * the whole benchmark: it is bounded (the task stream keeps at most 2,000 spans) however many tasks
 * are in flight.
 *
 * <p>Not part of a run without {@code --only}: three pools, each warmed for the session's warm-up
 * time, then timed in turn, take well over a minute (70 to 80 seconds on 2 cores; under a minute
 * with {@code --quick}).
 */
final class MetricsOverhead {
  private static final SerializableFunction<Integer, Integer> IDENTITY = x -> x;

  /**
   * Timed runs per pool and workload in a full run: more than other workloads' three, because a run
   * here is a fraction of a second on a machine shared by the caller and three pools' worker JVMs,
   * and the differences sought are a few percent: on 2 cores, medians of five runs differed by 30%
   * from one run of the benchmark to the next.
   */
  private static final int REPETITIONS = 18;

  /** Long enough for a loaded 2-core machine to start a handful of JVMs. */
  private static final long READY_TIMEOUT_SECONDS = 120;

  private MetricsOverhead() {}

  static Benchmark benchmark() {
    return new Benchmark("metrics", MetricsOverhead::run, false);
  }

  /** One pool of the comparison. Used by the bench's thread. */
  private static final class Lane {
    final String executor;
    final ProcessPool pool;
    long warmNanos;
    int warmRounds;

    Lane(String executor, ProcessPool pool) {
      this.executor = executor;
      this.pool = pool;
    }
  }

  /** One run of a workload on a pool; returns a checksum of what it computed. */
  @FunctionalInterface
  private interface Work {
    long run(ProcessPool pool) throws Exception;
  }

  private static void run(Session s) throws Exception {
    int tasks = s.size(10_000, 2_000);
    int repetitions = s.size(REPETITIONS, ORDERS.length);
    List<Integer> items = IntStream.range(0, 1_000_000).boxed().toList();
    List<Integer> warmItems = s.quick() ? items.subList(0, 100_000) : items;
    List<ProcessPool> opened = new ArrayList<>();
    Watcher watcher = null;
    try {
      s.progress("metrics: starting three pools of %d worker JVMs...", s.workers());
      Lane off = new Lane("process", open(opened, ProcessPool.builder().workers(s.workers())));
      Lane counted =
          new Lane(
              "process+metrics",
              open(opened, ProcessPool.builder().workers(s.workers()).dashboard("127.0.0.1:0")));
      Lane watched =
          new Lane(
              "process+metrics+watched",
              open(opened, ProcessPool.builder().workers(s.workers()).dashboard("127.0.0.1:0")));
      List<Lane> lanes = List.of(off, counted, watched);
      watcher = Watcher.start(watched.pool.dashboardUrl().orElseThrow());

      s.progress(
          "metrics: warming each pool with submit and map for at least %d s...",
          s.warmFor().toSeconds());
      warmUp(lanes, s.warmFor(), tasks, warmItems);

      s.progress(
          "metrics-submit: %d tasks, %d timed runs per pool, pools in turn...", tasks, repetitions);
      Work submit = pool -> RoundTrips.submitAll(pool, tasks);
      settle(lanes, submit);
      Watcher.Counts before = watcher.counts();
      double[][] submitSeconds = inTurn(s, "metrics-submit", lanes, repetitions, submit);
      Watcher.Counts afterSubmit = watcher.counts();
      watcher.check();
      for (int i = 0; i < lanes.size(); i++) {
        Row row = row(s, "metrics-submit", lanes.get(i), tasks, submitSeconds[i], submitSeconds[0]);
        if (lanes.get(i) == watched) {
          watchedDuring(row, before, afterSubmit);
        }
        s.emit(row);
      }

      s.progress(
          "metrics-map1m: %,d items, %d timed runs per pool, pools in turn...",
          items.size(), repetitions);
      Work map = pool -> map(pool, items);
      settle(lanes, map);
      Watcher.Counts beforeMap = watcher.counts();
      double[][] mapSeconds = inTurn(s, "metrics-map1m", lanes, repetitions, map);
      Watcher.Counts afterMap = watcher.counts();
      // The snapshot made once the last map is over, not one made while it ran.
      Watcher.Counts end = watcher.awaitEventAfter(afterMap.events(), Duration.ofSeconds(10));
      watcher.check();
      for (int i = 0; i < lanes.size(); i++) {
        Row row = row(s, "metrics-map1m", lanes.get(i), items.size(), mapSeconds[i], mapSeconds[0]);
        if (lanes.get(i) == watched) {
          watchedDuring(row, beforeMap, afterMap);
          row.put("snapshot_bytes", end.lastBytes()).put("snapshot_max_bytes", end.maxBytes());
        }
        s.emit(row);
      }
    } finally {
      try {
        if (watcher != null) {
          watcher.close();
        }
      } finally {
        opened.forEach(ProcessPool::close);
      }
    }
  }

  /**
   * One untimed run on each pool, just before the timed ones: after the other workload, the first
   * run of this one was slower on every pool alike (by half, for submit after map).
   */
  private static void settle(List<Lane> lanes, Work work) throws Exception {
    for (Lane lane : lanes) {
      var unused = work.run(lane.pool);
    }
  }

  /**
   * The orders in which a round runs the three pools: all six, so that each pool runs first, second
   * and third equally often and follows each other pool equally often. (Rotating one order would
   * always run the plain pool right after the watched one.)
   */
  private static final int[][] ORDERS = {
    {0, 1, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}, {1, 0, 2}, {0, 2, 1},
  };

  /**
   * Times {@code work} on every pool, {@code repetitions} times, the pools in turn, round r in the
   * order {@code ORDERS[r % 6]}.
   *
   * @return each lane's seconds, in the order of {@code lanes}
   */
  private static double[][] inTurn(
      Session s, String workload, List<Lane> lanes, int repetitions, Work work) throws Exception {
    double[][] seconds = new double[lanes.size()][repetitions];
    Long agreed = null;
    for (int r = 0; r < repetitions; r++) {
      for (int i : ORDERS[r % ORDERS.length]) {
        long t0 = System.nanoTime();
        long sum = work.run(lanes.get(i).pool);
        seconds[i][r] = (System.nanoTime() - t0) / 1e9;
        if (agreed == null) {
          agreed = sum;
        } else if (agreed != sum) {
          s.inconsistent(workload, lanes.get(i).executor + " computed a different result");
        }
      }
    }
    return seconds;
  }

  private static ProcessPool open(List<ProcessPool> opened, ProcessPool.Builder builder)
      throws Exception {
    ProcessPool pool = builder.build();
    opened.add(pool);
    WorkersReady.await(pool, READY_TIMEOUT_SECONDS);
    return pool;
  }

  /**
   * Rounds over the pools, one submit and one map each, until every pool has had {@code warmFor} of
   * them and at least one round: the JIT compiles in each pool's own worker JVMs.
   */
  private static void warmUp(List<Lane> lanes, Duration warmFor, int tasks, List<Integer> warmItems)
      throws Exception {
    boolean cold = true;
    while (cold) {
      cold = false;
      for (Lane lane : lanes) {
        if (lane.warmRounds > 0 && lane.warmNanos >= warmFor.toNanos()) {
          continue;
        }
        long t0 = System.nanoTime();
        RoundTrips.submitAll(lane.pool, tasks);
        var unused = map(lane.pool, warmItems);
        lane.warmNanos += System.nanoTime() - t0;
        lane.warmRounds++;
        cold |= lane.warmNanos < warmFor.toNanos();
      }
    }
  }

  private static long map(ProcessPool pool, List<Integer> input) {
    long sum = 17;
    try (MapResults<Integer> results = pool.map(IDENTITY, input)) {
      while (results.hasNext()) {
        sum = 31 * sum + results.next();
      }
    }
    return sum;
  }

  /**
   * The lane's row. Its {@code vs_off} pairs each of its runs with the plain pool's run of the same
   * round, which ran moments before or after it: the median of those ratios, not the ratio of the
   * two medians, so that a drift over the benchmark (the machine's load, the JIT still at work)
   * falls out. Every timed run's seconds and the ratios' quartiles go to the progress output, to
   * show the spread behind a median.
   */
  private static Row row(
      Session s, String workload, Lane lane, int items, double[] seconds, double[] offSeconds) {
    double[] ratios = new double[seconds.length];
    StringBuilder runs = new StringBuilder();
    for (int r = 0; r < seconds.length; r++) {
      ratios[r] = offSeconds[r] / seconds[r];
      runs.append(String.format(Locale.ROOT, " %.3f", seconds[r]));
    }
    double[] sorted = ratios.clone();
    Arrays.sort(sorted);
    s.progress(
        "%s: %s timed runs (s):%s; vs_off by round: min %.2f, quartiles %.2f %.2f %.2f, max %.2f",
        workload,
        lane.executor,
        runs,
        sorted[0],
        quantile(sorted, 0.25),
        Timing.median(sorted),
        quantile(sorted, 0.75),
        sorted[sorted.length - 1]);
    return Row.of(workload, lane.executor, lane.pool.workers())
        .items(items)
        .seconds(Timing.median(seconds))
        .put(Report.OWN_RATIO, Timing.median(ratios));
  }

  /** Linear interpolation between the nearest ranks of sorted values. */
  private static double quantile(double[] sorted, double q) {
    double at = q * (sorted.length - 1);
    int below = (int) Math.floor(at);
    int above = Math.min(below + 1, sorted.length - 1);
    return sorted[below] + (at - below) * (sorted[above] - sorted[below]);
  }

  private static void watchedDuring(Row row, Watcher.Counts from, Watcher.Counts to) {
    row.put("events_read", to.events() - from.events())
        .put("scrapes", to.scrapes() - from.scrapes());
  }

  // ---------------------------------------------------------------------------------------------
  // The watcher

  /**
   * Reads a pool's dashboard as an open page and Prometheus would: {@code /api/events} on a thread
   * of its own for as long as it is open, and {@code /metrics} once a second on another. {@link
   * #close()} ends both threads and the HTTP stream, and waits for them.
   *
   * <p>Threading: the counts are guarded by {@code this}; the rest is set before the threads start
   * or is thread-safe.
   */
  static final class Watcher implements AutoCloseable {
    /** How long a thread may take to stop once closed: the stream's reader wakes at once. */
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);

    /**
     * @param events snapshots read from {@code /api/events}
     * @param scrapes {@code /metrics} pages fetched
     * @param lastBytes the size of the latest snapshot, in UTF-8 bytes
     * @param maxBytes the size of the largest
     */
    record Counts(long events, long scrapes, long lastBytes, long maxBytes) {}

    private final URI events;
    private final URI metrics;
    private final ExecutorService httpThreads;
    private final HttpClient http;
    private final Thread reader;
    private final ScheduledExecutorService scraper;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile boolean closed;
    private volatile InputStream stream; // the open event stream, for close() to end
    private long eventCount; // guarded by this
    private long scrapeCount; // guarded by this
    private long lastBytes; // guarded by this
    private long maxBytes; // guarded by this

    private Watcher(String dashboardUrl) {
      URI base = URI.create(dashboardUrl);
      this.events = base.resolve("/api/events");
      this.metrics = base.resolve("/metrics");
      this.httpThreads =
          Executors.newCachedThreadPool(
              r -> {
                Thread t = new Thread(r, "bench-dashboard-http");
                t.setDaemon(true);
                return t;
              });
      this.http =
          HttpClient.newBuilder()
              .version(HttpClient.Version.HTTP_1_1)
              .connectTimeout(Duration.ofSeconds(10))
              .executor(httpThreads)
              .build();
      this.reader = new Thread(this::read, "bench-dashboard-reader");
      reader.setDaemon(true);
      this.scraper =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "bench-metrics-scraper");
                t.setDaemon(true);
                return t;
              });
    }

    /**
     * Starts reading, and returns once the first snapshot has arrived.
     *
     * @param dashboardUrl the pool's {@code dashboardUrl()}
     * @return the running watcher
     * @throws TimeoutException if no snapshot arrives in ten seconds
     * @throws IOException if reading failed
     */
    static Watcher start(String dashboardUrl) throws Exception {
      Watcher w = new Watcher(dashboardUrl);
      try {
        w.reader.start();
        var unused = w.scraper.scheduleAtFixedRate(w::scrape, 1, 1, TimeUnit.SECONDS);
        w.awaitEventAfter(0, Duration.ofSeconds(10));
        return w;
      } catch (Exception | Error e) {
        try {
          w.close();
        } catch (RuntimeException stuck) {
          e.addSuppressed(stuck);
        }
        throw e;
      }
    }

    private void read() {
      HttpRequest request = HttpRequest.newBuilder(events).GET().build();
      try {
        HttpResponse<InputStream> response =
            http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream in = response.body();
            BufferedReader lines =
                new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
          stream = in;
          if (closed) {
            return;
          }
          if (response.statusCode() != 200) {
            throw new IOException("GET " + events + " answered " + response.statusCode());
          }
          for (String line = lines.readLine(); line != null; line = lines.readLine()) {
            if (line.startsWith("data: ")) {
              received(line.substring("data: ".length()).getBytes(StandardCharsets.UTF_8).length);
            }
          }
          throw new IOException("the dashboard ended its event stream");
        }
      } catch (IOException | RuntimeException e) {
        fail(e);
      } catch (InterruptedException e) {
        fail(e);
        Thread.currentThread().interrupt();
      }
    }

    private synchronized void received(long bytes) {
      eventCount++;
      lastBytes = bytes;
      maxBytes = Math.max(maxBytes, bytes);
      notifyAll();
    }

    private void scrape() {
      try {
        HttpResponse<byte[]> page =
            http.send(
                HttpRequest.newBuilder(metrics).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        if (page.statusCode() != 200 || page.body().length == 0) {
          throw new IOException(
              "GET "
                  + metrics
                  + " answered "
                  + page.statusCode()
                  + " with "
                  + page.body().length
                  + " bytes");
        }
        synchronized (this) {
          scrapeCount++;
        }
      } catch (IOException | RuntimeException e) {
        fail(e);
      } catch (InterruptedException e) {
        fail(e);
        Thread.currentThread().interrupt();
      }
    }

    /** A failure while open means the pool was not watched; one caused by closing is expected. */
    private void fail(Throwable e) {
      if (!closed) {
        failure.compareAndSet(null, e);
        synchronized (this) {
          notifyAll();
        }
      }
    }

    /**
     * @throws IOException if reading or scraping has failed: the watched lane was not watched
     */
    void check() throws IOException {
      Throwable t = failure.get();
      if (t != null) {
        throw new IOException("the benchmark's dashboard reader failed: " + t, t);
      }
    }

    synchronized Counts counts() {
      return new Counts(eventCount, scrapeCount, lastBytes, maxBytes);
    }

    /**
     * Waits for a snapshot beyond the first {@code seen}.
     *
     * @return the counts once it has arrived
     * @throws TimeoutException if none arrives in time
     * @throws IOException if reading failed
     */
    synchronized Counts awaitEventAfter(long seen, Duration timeout) throws Exception {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (eventCount <= seen) {
        check();
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new TimeoutException(
              "no dashboard snapshot from " + events + " in " + timeout.toSeconds() + " s");
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
      return counts();
    }

    /**
     * Ends the stream and both threads, and waits for them.
     *
     * @throws IllegalStateException if a thread has not stopped in ten seconds
     */
    @Override
    public void close() {
      closed = true;
      scraper.shutdownNow();
      InputStream in = stream;
      if (in != null) {
        try {
          in.close();
        } catch (IOException e) {
          // closing is all that was asked; the reader stops either way
        }
      }
      reader.interrupt();
      boolean stopped;
      try {
        reader.join(STOP_TIMEOUT.toMillis());
        stopped = scraper.awaitTermination(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        stopped = false;
      } finally {
        // JDK 17's HttpClient has no close(): its connections go with the threads that served
        // them, and its selector thread once the client is no longer reachable.
        httpThreads.shutdownNow();
      }
      if (reader.isAlive() || !stopped) {
        throw new IllegalStateException("the benchmark's dashboard reader did not stop");
      }
    }
  }
}
