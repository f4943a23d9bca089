package io.flotilla.cli.chaos;

import io.flotilla.ClusterPool;
import io.flotilla.SerializableCallable;
import io.flotilla.internal.jobs.JobLimits;
import io.flotilla.internal.server.CoordinatorServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import java.util.stream.Stream;

/**
 * {@code flotilla chaos --cluster}: a coordinator in this JVM, worker hosts as {@code flotilla
 * worker} processes on loopback, and a connected pool mapping again and again while the hosts' task
 * JVMs die: every other tick one is killed with SIGKILL, and on the others a task calls {@code
 * System.exit} in whichever task JVM runs it (once: its second attempt succeeds). The hosts start
 * their task JVMs again; every item's result must still arrive once and be right.
 *
 * <pre>
 *  this JVM: coordinator ◄── ClusterPool (maps, exit tasks) ;  killer thread ──SIGKILL──┐
 *  flotilla worker ×N (children, exit with this JVM) ──► task JVM each ◄─────────────────┘
 * </pre>
 */
final class ClusterChaos {
  /** Runs of a chunk before its items fail: enough that no chunk of a healthy map runs out. */
  private static final int MAX_ATTEMPTS = 10;

  /** How long the hosts may take to join, on a busy machine. */
  private static final Duration JOIN_WAIT = Duration.ofMinutes(2);

  private ClusterChaos() {}

  static int run(
      int workers, long items, Duration killEvery, Duration duration, long seed, boolean quiet) {
    Path dir;
    try {
      dir = Files.createTempDirectory("flotilla-chaos");
    } catch (IOException e) {
      System.err.println("flotilla chaos: cannot make a scratch directory: " + e.getMessage());
      return 1;
    }
    String secret = UUID.randomUUID().toString();
    // The coordinator's account of every death would drown the result; the hosts' logs keep theirs.
    if (org.slf4j.LoggerFactory.getILoggerFactory()
        instanceof ch.qos.logback.classic.LoggerContext logs) {
      // The root of them all, for loggers made later; then those given a level of their own.
      logs.getLogger("io.flotilla").setLevel(ch.qos.logback.classic.Level.ERROR);
      for (ch.qos.logback.classic.Logger logger : logs.getLoggerList()) {
        if (logger.getName().startsWith("io.flotilla")) {
          logger.setLevel(ch.qos.logback.classic.Level.ERROR);
        }
      }
    }
    List<Process> hosts = new ArrayList<>();
    ScheduledExecutorService killer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "chaos-killer");
              t.setDaemon(true);
              return t;
            });
    CoordinatorServer server = null;
    boolean passed = false;
    try {
      server =
          CoordinatorServer.start(
              new CoordinatorServer.Settings(
                  "127.0.0.1",
                  0,
                  0,
                  null,
                  secret,
                  dir.resolve("coordinator"),
                  MAX_ATTEMPTS,
                  Duration.ofSeconds(7),
                  null,
                  com.typesafe.config.ConfigFactory.empty(),
                  Map.of(),
                  JobLimits.DEFAULT,
                  CoordinatorServer.Settings.DEFAULT_NO_WORKERS_TIMEOUT,
                  // No metrics page: chaos runs beside a coordinator that may be serving one.
                  null));
      String address = "127.0.0.1:" + server.port();
      for (int i = 0; i < workers; i++) {
        hosts.add(startHost(address, secret, dir, i));
      }
      if (!quiet) {
        System.err.println(
            "chaos: coordinator at " + address + ", " + workers + " worker hosts starting");
      }
      List<Long> input = LongStream.range(0, items).boxed().toList();
      AtomicLong sigkills = new AtomicLong();
      List<CompletableFuture<String>> exits = new ArrayList<>();
      ChaosCommand.Tally tally = new ChaosCommand.Tally();
      long start;
      try (ClusterPool pool = ClusterPool.builder(address).secret(secret).build()) {
        long joinBy = System.nanoTime() + JOIN_WAIT.toNanos();
        while (pool.workers() < workers) {
          if (System.nanoTime() - joinBy > 0 || hosts.stream().anyMatch(p -> !p.isAlive())) {
            System.err.println(
                "flotilla chaos: only "
                    + pool.workers()
                    + " of "
                    + workers
                    + " worker hosts joined; their logs are in "
                    + dir);
            return 1;
          }
          TimeUnit.MILLISECONDS.sleep(100);
        }
        start = System.nanoTime();
        long deadline = start + duration.toNanos();
        Random random = new Random(seed);
        AtomicLong tick = new AtomicLong();
        var unused =
            killer.scheduleAtFixedRate(
                () -> {
                  if (tick.incrementAndGet() % 2 == 1) {
                    List<ProcessHandle> taskJvms =
                        hosts.stream().flatMap(Process::children).toList();
                    if (!taskJvms.isEmpty()
                        && taskJvms.get(random.nextInt(taskJvms.size())).destroyForcibly()) {
                      sigkills.incrementAndGet();
                    }
                  } else {
                    synchronized (exits) {
                      exits.add(pool.submit(exitOnce(dir.resolve("exit-" + tick.get()))));
                    }
                  }
                },
                killEvery.toNanos(),
                killEvery.toNanos(),
                TimeUnit.NANOSECONDS);
        do {
          tally.oneMap(pool, input);
        } while (System.nanoTime() < deadline);
        killer.shutdownNow();
        List<CompletableFuture<String>> all;
        synchronized (exits) {
          all = List.copyOf(exits);
        }
        for (CompletableFuture<String> exit : all) {
          try {
            exit.get(JOIN_WAIT.toSeconds(), TimeUnit.SECONDS);
          } catch (Exception e) {
            // A task that ran once more than planned is still one result: only a missing one is
            // lost.
            System.err.println("chaos: a task that exits its worker once did not succeed: " + e);
            tally.lost++;
          }
        }
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      long exited;
      try (Stream<Path> markers = Files.list(dir)) {
        exited = markers.filter(p -> p.getFileName().toString().startsWith("exit-")).count();
      }
      System.out.printf(
          Locale.ROOT,
          "{\"items\":%d,\"kills\":%d,\"restarts\":%d,\"lost\":%d,\"duplicated\":%d,\"wrong\":%d,\"seconds\":%.1f}%n",
          tally.total,
          sigkills.get() + exited,
          restarts(dir, workers),
          tally.lost,
          tally.duplicated,
          tally.wrong,
          seconds);
      passed = tally.clean();
      if (!passed) {
        System.err.println("chaos: the worker hosts' logs are in " + dir);
      }
      return passed ? 0 : 1;
    } catch (IOException e) {
      System.err.println("flotilla chaos: " + e.getMessage());
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    } finally {
      killer.shutdownNow();
      for (Process host : hosts) {
        host.destroy();
      }
      for (Process host : hosts) {
        try {
          if (!host.waitFor(20, TimeUnit.SECONDS)) {
            host.destroyForcibly();
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          host.destroyForcibly();
        }
      }
      if (server != null) {
        server.close();
      }
      if (passed) {
        deleteQuietly(dir);
      }
    }
  }

  /** A task that exits its JVM on its first run and succeeds on the next. */
  private static SerializableCallable<String> exitOnce(Path marker) {
    String path = marker.toString();
    return () -> {
      try {
        Files.createFile(Path.of(path));
        System.exit(3);
      } catch (java.nio.file.FileAlreadyExistsException ranBefore) {
        // the second run
      }
      return "ran again";
    };
  }

  /**
   * A worker host, as a user starts one, with one run thread; it ends when this JVM does, killed or
   * not.
   */
  private static Process startHost(String address, String secret, Path dir, int n)
      throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-XX:+UseSerialGC");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add("io.flotilla.cli.Main");
    command.add("worker");
    command.add("--join");
    command.add(address);
    command.add("--threads");
    command.add("1");
    command.add("--cache-dir");
    command.add(dir.resolve("code-" + n).toString());
    command.add("--exit-with-parent");
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("host-" + n + ".log").toFile());
    builder.environment().put("FLOTILLA_SECRET", secret);
    return builder.start();
  }

  /** Task JVMs the hosts started again, as their logs count them. */
  private static long restarts(Path dir, int workers) throws IOException {
    long n = 0;
    for (int i = 0; i < workers; i++) {
      try (Stream<String> lines = Files.lines(dir.resolve("host-" + i + ".log"))) {
        n += lines.filter(l -> l.contains("starting a fresh one")).count();
      }
    }
    return n;
  }

  private static void deleteQuietly(Path dir) {
    try (Stream<Path> all = Files.walk(dir)) {
      all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | RuntimeException e) {
      // a scratch directory left in the temp directory
    }
  }
}
