package io.flotilla;

import com.google.protobuf.ByteString;
import io.flotilla.internal.codec.Codec;
import io.flotilla.internal.codec.CodecException;
import io.flotilla.internal.local.LaunchOptions;
import io.flotilla.internal.local.LocalFleet;
import io.flotilla.internal.local.WorkerLauncher;
import io.flotilla.internal.scheduler.ChunkScheduler;
import io.flotilla.internal.scheduler.ProcessBackend;
import io.flotilla.internal.scheduler.WorkerLinkServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link PoolExecutor} whose tasks run in separate worker JVMs, Python's {@code
 * ProcessPoolExecutor}. The one-line switch from threads:
 *
 * <pre>{@code
 * try (PoolExecutor pool = ProcessPool.local(4)) {       // was: ThreadPool.of(4)
 *   CompletableFuture<Long> f = pool.submit(() -> slowSum(n));
 *   for (boolean isPrime : pool.map(Primes::isPrime, numbers)) { ... }
 * }
 * }</pre>
 *
 * <p><b>Workers.</b> {@link #local(int)} launches that many JVMs with this JVM's class path, so
 * lambdas, method references and the caller's classes work with no set-up. They start in parallel
 * and attach over gRPC on 127.0.0.1 with a per-pool secret; tasks submitted meanwhile wait for the
 * first worker. Their stdout and stderr are copied to this JVM's, each line prefixed with {@code
 * [w1]}. A worker that exits is replaced; the chunks it held run again elsewhere, up to {@link
 * Builder#maxAttempts(int)} times, after which they fail with {@link WorkerCrashedException}.
 * Workers exit by themselves when this JVM goes away, however it goes (their stdin pipe closes): a
 * pool never leaves orphan processes.
 *
 * <p><b>What crosses the boundary.</b> Functions, arguments and results are encoded with Kryo:
 * lambdas typed as {@link SerializableFunction} or {@link SerializableCallable}, records, plain
 * classes, collections and arrays work; threads, streams, sockets and non-serializable lambdas fail
 * with a {@link SerializationException} naming the class and the boundary. Exceptions come back as
 * the same class where it can be rebuilt, with the worker's stack trace and a {@link
 * RemoteTraceback}.
 */
public final class ProcessPool extends AbstractPool {
  private static final Logger log = LoggerFactory.getLogger(ProcessPool.class);

  private final LocalFleet fleet;
  private final ChunkScheduler scheduler;
  private final int workers;
  private final int threadsPerWorker;
  private final Thread killOnExit;
  private final ExecutorService completions;
  private volatile Dashboard dashboard; // null: none

  /** A local pool's dashboard: its page and metrics server, and what they read. */
  private record Dashboard(
      io.flotilla.internal.metrics.PoolMetrics metrics,
      io.flotilla.internal.dashboard.DashboardServer server) {
    void close() {
      server.close();
      metrics.close();
    }
  }

  private ProcessPool(
      ProcessBackend backend,
      LocalFleet fleet,
      ChunkScheduler scheduler,
      int workers,
      int threadsPerWorker,
      ExecutorService completions,
      Thread killOnExit) {
    super(backend, completions);
    this.completions = completions;
    this.fleet = fleet;
    this.scheduler = scheduler;
    this.workers = workers;
    this.threadsPerWorker = threadsPerWorker;
    this.killOnExit = killOnExit;
  }

  /**
   * @return a pool with one worker per available processor
   */
  public static ProcessPool local() {
    return builder().build();
  }

  /**
   * @param workers the number of worker JVMs, at least 1
   * @return a pool of that many workers
   * @throws IllegalArgumentException if {@code workers} is less than 1
   */
  public static ProcessPool local(int workers) {
    return builder().workers(workers).build();
  }

  /**
   * A pool on the workers of a coordinator server ({@code flotilla coordinator}), on this machine
   * or another: the one line that takes a program from one machine to many. See {@link
   * ClusterPool}.
   *
   * @param address the coordinator's {@code host:port}
   * @return a pool with the same API as a local one
   * @throws BrokenPoolException naming the reason if the coordinator cannot be reached or refuses
   */
  public static ClusterPool connect(String address) {
    return ClusterPool.connect(address);
  }

  private static int reserveLoopbackPort() {
    try (java.net.ServerSocket probe =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return probe.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot listen on 127.0.0.1 for workers", e);
    }
  }

  /**
   * @return a builder for a local pool with options
   */
  public static Builder builder() {
    return new Builder();
  }

  private void broke(Throwable cause) {
    BrokenPoolException broken =
        cause instanceof BrokenPoolException b
            ? b
            : new BrokenPoolException("the pool is broken: " + cause, cause);
    markBroken(broken);
    scheduler.breakPool(broken);
  }

  @Override
  CompletableFuture<Void> stopBackend() {
    return fleet
        .stop()
        .whenComplete(
            (v, e) -> {
              completions.shutdown();
              scheduler.close();
              Dashboard d = dashboard;
              if (d != null) {
                d.close();
              }
              try {
                Runtime.getRuntime().removeShutdownHook(killOnExit);
              } catch (IllegalStateException alreadyExiting) {
                // the hook is running or about to: nothing to undo
              }
            });
  }

  /**
   * @return crash, retry and replacement counts so far
   */
  public PoolStats stats() {
    return new PoolStats(
        fleet.crashes(), scheduler.retries(), fleet.replacements(), scheduler.recycled());
  }

  /**
   * @return the address of this pool's dashboard page, if it has one ({@link
   *     Builder#dashboard(String)})
   */
  public java.util.Optional<String> dashboardUrl() {
    Dashboard d = dashboard;
    return d == null ? java.util.Optional.empty() : java.util.Optional.of(d.server.url());
  }

  /**
   * @return the process ids of the worker JVMs alive now
   */
  public List<Long> workerPids() {
    return fleet.livePids();
  }

  @Override
  public int workers() {
    return workers;
  }

  /**
   * @return the workers attached and ready now, as {@code flotilla status} would show them, with
   *     their latest resource samples; for tests
   */
  List<ChunkScheduler.WorkerView> workerViews() {
    return scheduler.workers();
  }

  @Override
  public int parallelism() {
    return workers * threadsPerWorker;
  }

  @Override
  public String toString() {
    return "ProcessPool[workers="
        + workers
        + ", threadsPerWorker="
        + threadsPerWorker
        + (isShutdown() ? ", shut down" : "")
        + "]";
  }

  /**
   * Options of a local pool. Every setter validates at once and names the bad value.
   *
   * <p>Not thread-safe; {@link #build()} may be called more than once.
   */
  public static final class Builder {
    private int workers = Runtime.getRuntime().availableProcessors();
    private int threadsPerWorker = 1;
    private final List<String> jvmArgs = new ArrayList<>();
    private final Map<String, String> systemProperties = new LinkedHashMap<>();
    private final Map<String, String> environment = new LinkedHashMap<>();
    private SerializableRunnable initializer;
    private int maxMessageBytes = 1 << 30;
    private int maxAttempts = 3;
    private int maxTasksPerWorker;
    private Duration heartbeatTimeout = Duration.ofSeconds(3);
    private Duration taskTimeout;
    private boolean strict;
    private final List<String> retryOn = new ArrayList<>();
    private long recycleAboveHeapBytes;
    private String classPath = System.getProperty("java.class.path");
    private String javaExecutable =
        Path.of(System.getProperty("java.home"), "bin", "java").toString();
    private boolean classDataSharing = true;
    private java.net.InetSocketAddress dashboard;

    private Builder() {}

    /**
     * Serves a live dashboard of this pool from the caller's JVM: a page with its workers (memory,
     * CPU, tasks done), its maps' progress and a task stream, at {@code http://HOST:PORT/}, with
     * the pool's Prometheus metrics at {@code /metrics}. The address is logged when the pool
     * starts, and {@link ProcessPool#dashboardUrl()} returns it. Off by default.
     *
     * @param hostPort a loopback address and port, e.g. {@code "127.0.0.1:0"} (port 0 picks a free
     *     one)
     * @return this
     * @throws IllegalArgumentException if it is not {@code HOST:PORT} on a loopback address: a
     *     local pool has no secret to ask of anyone else
     */
    public Builder dashboard(String hostPort) {
      if (hostPort == null) {
        throw new IllegalArgumentException("dashboard takes HOST:PORT, e.g. 127.0.0.1:0, not null");
      }
      java.net.InetSocketAddress parsed =
          io.flotilla.internal.dashboard.DashboardAddress.parse(
              hostPort, "dashboard takes HOST:PORT, e.g. 127.0.0.1:0");
      java.net.InetAddress address = parsed.getAddress();
      if (!address.isLoopbackAddress()) {
        throw new IllegalArgumentException(
            "a local pool serves its dashboard on loopback only (127.0.0.1 or ::1), not '"
                + hostPort
                + "'; reach it from elsewhere through an ssh tunnel, or run a coordinator");
      }
      this.dashboard = parsed;
      return this;
    }

    /**
     * @param workers worker JVMs, at least 1 (default: available processors)
     * @return this
     */
    public Builder workers(int workers) {
      if (workers < 1) {
        throw new IllegalArgumentException("workers must be at least 1, was " + workers);
      }
      this.workers = workers;
      return this;
    }

    /**
     * @param threads threads per worker, at least 1 (default 1, like a Python process)
     * @return this
     */
    public Builder threadsPerWorker(int threads) {
      if (threads < 1) {
        throw new IllegalArgumentException("threadsPerWorker must be at least 1, was " + threads);
      }
      this.threadsPerWorker = threads;
      return this;
    }

    /**
     * @param args JVM flags for every worker, such as {@code "-Xmx512m"}; added after Flotilla's
     *     defaults, so they win
     * @return this
     */
    public Builder jvmArgs(String... args) {
      for (String a : args) {
        Objects.requireNonNull(a, "JVM argument");
        if (a.isBlank()) {
          throw new IllegalArgumentException("JVM argument must not be blank, was '" + a + "'");
        }
        jvmArgs.add(a);
      }
      return this;
    }

    /**
     * @param key a system property name
     * @param value its value in every worker
     * @return this
     */
    public Builder systemProperty(String key, String value) {
      if (key == null || key.isBlank() || key.contains("=")) {
        throw new IllegalArgumentException("system property name is invalid: '" + key + "'");
      }
      systemProperties.put(key, Objects.requireNonNull(value, "value of " + key));
      return this;
    }

    /**
     * @param name an environment variable
     * @param value its value in every worker
     * @return this
     */
    public Builder environment(String name, String value) {
      if (name == null || name.isBlank() || name.contains("=")) {
        throw new IllegalArgumentException("environment variable name is invalid: '" + name + "'");
      }
      environment.put(name, Objects.requireNonNull(value, "value of " + name));
      return this;
    }

    /**
     * @param initializer run once in each worker before its first task (Python's {@code
     *     initializer}; capture {@code initargs} in the lambda). If it throws, the pool is broken:
     *     pending and later tasks fail with {@link BrokenPoolException}.
     * @return this
     */
    public Builder initializer(SerializableRunnable initializer) {
      this.initializer = Objects.requireNonNull(initializer, "initializer");
      return this;
    }

    /**
     * @param bytes the largest message between coordinator and worker, at least 64 KiB (default 1
     *     GiB); an argument, function or result larger than this fails alone with {@link
     *     SerializationException}
     * @return this
     */
    public Builder maxMessageBytes(int bytes) {
      if (bytes < 64 * 1024) {
        throw new IllegalArgumentException("maxMessageBytes must be at least 65536, was " + bytes);
      }
      this.maxMessageBytes = bytes;
      return this;
    }

    /**
     * @param attempts how many workers may die running one chunk before it fails with {@link
     *     WorkerCrashedException}, at least 1 (default 3); also how many runs in all an item gets
     *     when it throws an exception listed in {@link #retryOn}
     * @return this
     */
    public Builder maxAttempts(int attempts) {
      if (attempts < 1) {
        throw new IllegalArgumentException("maxAttempts must be at least 1, was " + attempts);
      }
      this.maxAttempts = attempts;
      return this;
    }

    /**
     * @param tasks chunks a worker runs before it is replaced by a fresh JVM, at least 1 (Python's
     *     {@code max_tasks_per_child}; a submitted task is one chunk, a map's chunk counts once);
     *     by default workers are never recycled. The replacement starts while the old worker
     *     finishes; no queued work is lost.
     * @return this
     */
    public Builder maxTasksPerWorker(int tasks) {
      if (tasks < 1) {
        throw new IllegalArgumentException("maxTasksPerWorker must be at least 1, was " + tasks);
      }
      this.maxTasksPerWorker = tasks;
      return this;
    }

    /**
     * @param timeout how long a worker may go without answering the coordinator's heartbeat before
     *     it is declared lost, killed and replaced, and its chunks run elsewhere: a hung or stopped
     *     JVM is noticed within about this time (default 3 s; at least 300 ms). Heartbeats are
     *     answered by the worker's network thread, so a long-running task does not miss them; a
     *     stop-the-world pause longer than this does.
     * @return this
     */
    public Builder heartbeatTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.toMillis() < 300) {
        throw new IllegalArgumentException(
            "heartbeatTimeout must be at least 300 ms, was " + timeout);
      }
      this.heartbeatTimeout = timeout;
      return this;
    }

    /**
     * @param timeout how long a task may run once a worker has started it. A task that runs longer
     *     has its worker killed and replaced (a JVM cannot stop a thread safely) and its future
     *     fails with {@link java.util.concurrent.TimeoutException}; it is not retried. In a map the
     *     clock runs per chunk and restarts whenever the chunk sends results, at least every 10 ms
     *     between items, so the timeout acts per item once it exceeds that; a chunk of several
     *     items that times out is split until the slow item is alone, and only that item fails. By
     *     default there is none.
     * @return this
     */
    public Builder taskTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("taskTimeout must be positive, was " + timeout);
      }
      this.taskTimeout = timeout;
      return this;
    }

    /**
     * @param bytes heap still in use after a collection above which a worker is replaced between
     *     tasks (it finishes what it holds; a replacement starts at once): for code that leaks or
     *     caches without bound. At least 1 MiB; by default there is no limit.
     * @return this
     */
    public Builder recycleAboveHeap(long bytes) {
      if (bytes < (1 << 20)) {
        throw new IllegalArgumentException(
            "recycleAboveHeap must be at least 1 MiB, was " + bytes + " bytes");
      }
      this.recycleAboveHeapBytes = bytes;
      return this;
    }

    /**
     * Opts in to retrying application exceptions: an item whose function throws one of these types
     * (or a subclass) is run again at once, on the same worker, up to {@link #maxAttempts(int)}
     * runs in all; its last exception is its result. Any other exception is never retried: it is a
     * result.
     *
     * @param types exception types, such as {@code java.io.IOException.class}
     * @return this
     */
    @SafeVarargs
    public final Builder retryOn(Class<? extends Throwable>... types) {
      for (Class<? extends Throwable> t : types) {
        retryOn.add(Objects.requireNonNull(t, "exception type").getName());
      }
      return this;
    }

    /**
     * Python's {@code ProcessPoolExecutor} semantics instead of self-healing: the first worker to
     * die while holding tasks breaks the pool; every pending and later task fails with {@link
     * BrokenPoolException}, whose cause is the {@link WorkerCrashedException}.
     *
     * @return this
     */
    public Builder strict() {
      this.strict = true;
      return this;
    }

    /**
     * @param classPath the workers' class path (default: this JVM's {@code java.class.path})
     * @return this
     */
    public Builder classPath(String classPath) {
      if (classPath == null || classPath.isBlank()) {
        throw new IllegalArgumentException("classPath must not be blank, was '" + classPath + "'");
      }
      this.classPath = classPath;
      return this;
    }

    /**
     * @param javaExecutable the {@code java} binary for workers (default: this JVM's)
     * @return this
     */
    public Builder javaExecutable(String javaExecutable) {
      if (javaExecutable == null || javaExecutable.isBlank()) {
        throw new IllegalArgumentException(
            "javaExecutable must not be blank, was '" + javaExecutable + "'");
      }
      this.javaExecutable = javaExecutable;
      return this;
    }

    /**
     * Whether workers share an AppCDS archive of their classes (default: on). The first worker
     * started without one writes it as it exits, into {@code ~/.cache/flotilla/cds} (or {@code
     * $XDG_CACHE_HOME/flotilla/cds}, or the directory in system property {@code flotilla.cds.dir}),
     * keyed by the JDK and the class path; later workers start in about half the time and use less
     * memory. Only a class path made of jar files can be archived; with a directory on it, or
     * {@code -Xshare} / archive flags among the {@link #jvmArgs}, workers start without.
     *
     * @param enabled whether to build and use the archive
     * @return this
     */
    public Builder classDataSharing(boolean enabled) {
      this.classDataSharing = enabled;
      return this;
    }

    /**
     * Starts the workers and returns at once; tasks wait for the first worker to be ready.
     *
     * @return the pool
     * @throws IllegalArgumentException if the initializer cannot be sent to workers
     * @throws UncheckedIOException if the coordinator cannot listen on loopback
     */
    public ProcessPool build() {
      byte[] secret = new byte[24];
      new SecureRandom().nextBytes(secret);
      String token = HexFormat.of().formatHex(secret);
      LocalFleet fleet =
          new LocalFleet(
              new WorkerLauncher(
                  new LaunchOptions(
                      javaExecutable,
                      classPath,
                      List.copyOf(jvmArgs),
                      Map.copyOf(systemProperties),
                      Map.copyOf(environment),
                      threadsPerWorker,
                      maxMessageBytes,
                      classDataSharing)),
              workers);
      // Workers boot (a JVM start and thousands of classes: the longest step by far) while this JVM
      // loads the codec, its logging and the server they will connect to: they are given a port
      // reserved a moment ago, and wait for it to listen.
      int reserved = reserveLoopbackPort();
      Thread killOnExit = new Thread(fleet::killAll, "flotilla-kill-workers");
      Runtime.getRuntime().addShutdownHook(killOnExit);
      try {
        fleet.launch(reserved, token);
        return start(fleet, reserved, token, killOnExit);
      } catch (RuntimeException | Error e) {
        fleet.killAll();
        Runtime.getRuntime().removeShutdownHook(killOnExit);
        throw e;
      }
    }

    private ProcessPool start(LocalFleet fleet, int reserved, String token, Thread killOnExit) {
      ClassLoader loader = Thread.currentThread().getContextClassLoader();
      if (loader == null) {
        loader = ProcessPool.class.getClassLoader();
      }
      Codec codec = new Codec(loader);
      ByteString init = ByteString.EMPTY;
      if (initializer != null) {
        try {
          init = codec.encode(initializer);
        } catch (CodecException e) {
          throw new IllegalArgumentException(
              "the initializer cannot be sent to workers: " + e.getMessage(), e);
        }
      }
      ChunkScheduler scheduler =
          new ChunkScheduler(
              maxAttempts, maxTasksPerWorker, fleet::recycling, taskTimeout, fleet::kill);
      WorkerLinkServer server =
          new WorkerLinkServer(
              scheduler, codec, token, init, maxMessageBytes, heartbeatTimeout, fleet);
      server.retryOn(retryOn, maxAttempts);
      server.recycleAboveHeap(recycleAboveHeapBytes);
      ProcessBackend backend =
          new ProcessBackend(scheduler, codec, loader, workers * threadsPerWorker, maxMessageBytes);
      AtomicInteger callbackThreads = new AtomicInteger();
      // Results arrive on gRPC's network threads, which must never run user callbacks: one that
      // waited
      // for another result would wait for itself.
      ExecutorService completions =
          Executors.newCachedThreadPool(
              r -> {
                Thread t = new Thread(r, "flotilla-callback-" + callbackThreads.incrementAndGet());
                t.setDaemon(true);
                return t;
              });
      ProcessPool pool =
          new ProcessPool(
              backend, fleet, scheduler, workers, threadsPerWorker, completions, killOnExit);
      if (strict) {
        scheduler.strict(pool::broke);
      }
      fleet.attach(server, pool::broke);
      try {
        try {
          server.start(reserved);
        } catch (IOException taken) {
          // Another process took the port in between: move the booting workers to a fresh one.
          fleet.movePort(server.start(0));
        }
      } catch (IOException | RuntimeException e) {
        completions.shutdown();
        throw new UncheckedIOException(
            "cannot listen on 127.0.0.1 for workers",
            e instanceof IOException io ? io : new IOException(e));
      }
      if (dashboard != null) {
        try {
          pool.serveDashboard(dashboard);
        } catch (IOException | RuntimeException e) {
          pool.shutdownNow();
          throw new UncheckedIOException(
              e.getMessage(), e instanceof IOException io ? io : new IOException(e));
        }
      }
      return pool;
    }
  }

  private void serveDashboard(java.net.InetSocketAddress at) throws IOException {
    io.flotilla.internal.metrics.PoolMetrics metrics =
        new io.flotilla.internal.metrics.PoolMetrics(scheduler);
    io.flotilla.internal.dashboard.FleetWatch watch =
        new io.flotilla.internal.dashboard.FleetWatch(
            "local pool",
            "local pool: " + workers + " workers × " + threadsPerWorker + " threads",
            scheduler,
            () -> 0);
    scheduler.metrics(io.flotilla.internal.scheduler.SchedulerMetrics.both(metrics, watch));
    io.flotilla.internal.dashboard.DashboardServer server;
    try {
      server =
          io.flotilla.internal.dashboard.DashboardServer.start(
              at, watch, metrics, token -> false, false, null);
    } catch (IOException | RuntimeException e) {
      scheduler.metrics(io.flotilla.internal.scheduler.SchedulerMetrics.NONE);
      metrics.close();
      throw e;
    }
    dashboard = new Dashboard(metrics, server);
    log.info("dashboard at {}", server.url());
  }
}
