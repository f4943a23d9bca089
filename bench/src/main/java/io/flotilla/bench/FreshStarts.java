package io.flotilla.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Workloads that need a fresh caller process, started for each measurement: a JVM running {@link
 * FreshCaller}, and a Python interpreter running the script's {@code startup} or {@code rss}.
 *
 * <ul>
 *   <li>{@code startup}: seconds from just before the pool is created to its first result, timed
 *       inside the fresh caller; median of several callers. The callers map an AppCDS archive of
 *       their own classes, written first by one untimed caller, as the {@code flotilla} launcher's
 *       JVM does.
 *   <li>{@code startup-total}: seconds from spawning the caller process to the arrival of its first
 *       result line: JVM or interpreter start, pool start, one round trip; median of the same
 *       callers.
 *   <li>{@code rss-worker}, {@code rss-coordinator}: after the pool has run one task and idled for
 *       one second, the largest worker's {@code VmRSS} and the caller's own, in MiB. Linux only.
 * </ul>
 *
 * <p>With Dask's {@code distributed} importable, {@code startup} also runs a {@code LocalCluster}
 * with process workers and a {@code Client} ({@code python-dask} rows).
 */
final class FreshStarts {
  /** A fresh JVM with two worker JVMs starts in seconds; this is for a machine under heavy load. */
  private static final Duration TIMEOUT = Duration.ofMinutes(3);

  private FreshStarts() {}

  static Benchmark startup() {
    return new Benchmark("startup", FreshStarts::startup);
  }

  static Benchmark rss() {
    return new Benchmark("rss", FreshStarts::rss);
  }

  private static void startup(Session s) throws Exception {
    int runs = s.size(5, 2);
    String n = String.valueOf(s.workers());
    Path dir = Files.createTempDirectory("flotilla-bench-cds");
    try {
      // The callers get an AppCDS archive of their own, as the flotilla launcher's JVM has: written
      // by
      // one untimed caller (whose pool also writes the workers' archive if there is none yet).
      // JDK 17 archives only jar files: a class path with a directory (a test run) goes without.
      Path archive = dir.resolve("caller.jsa");
      if (onlyJars(System.getProperty("java.class.path"))) {
        s.progress("startup: process (an untimed caller writes its class data archive)...");
        FreshProcess.run(
            Session.javaCommand("-XX:ArchiveClassesAtExit=" + archive, FreshCaller.class, n),
            TIMEOUT,
            row -> {});
      }
      String sharing = Files.isRegularFile(archive) ? "-XX:SharedArchiveFile=" + archive : null;
      starts(s, "process", Session.javaCommand(sharing, FreshCaller.class, n), runs);
    } finally {
      try (java.util.stream.Stream<Path> files = Files.list(dir)) {
        for (Path f : (Iterable<Path>) files::iterator) {
          Files.deleteIfExists(f);
        }
      }
      Files.deleteIfExists(dir);
    }
    if (s.python().isPresent()) {
      PythonSide python = s.python().get();
      starts(s, "python-process", python.command(List.of("startup", "--workers", n)), runs);
      if (python.hasDask()) {
        starts(s, "python-dask", python.command(List.of("startup-dask", "--workers", n)), runs);
      }
    }
  }

  private static boolean onlyJars(String classPath) {
    for (String entry : classPath.split(java.io.File.pathSeparator)) {
      if (!entry.endsWith(".jar") || !Files.isRegularFile(Path.of(entry))) {
        return false;
      }
    }
    return true;
  }

  private static void starts(Session s, String executor, List<String> command, int runs)
      throws IOException, InterruptedException {
    s.progress("startup: %s (%d fresh callers)...", executor, runs);
    double[] inCaller = new double[runs];
    double[] total = new double[runs];
    for (int i = 0; i < runs; i++) {
      FreshProcess.Output out = FreshProcess.run(command, TIMEOUT, row -> {});
      Double seconds = out.rows().isEmpty() ? null : out.rows().get(0).number(Row.SECONDS);
      if (seconds == null) {
        throw new IOException(String.join(" ", command) + " printed no startup time");
      }
      inCaller[i] = seconds;
      total[i] = out.secondsToFirstRow();
    }
    s.emit(Row.of("startup", executor, s.workers()).seconds(Timing.median(inCaller)));
    s.emit(Row.of("startup-total", executor, s.workers()).seconds(Timing.median(total)));
  }

  private static void rss(Session s) throws Exception {
    if (!Rss.available()) {
      s.progress("rss: no /proc/<pid>/status on this system; skipped");
      return;
    }
    String n = String.valueOf(s.workers());
    s.progress("rss: process (a fresh caller, one task, one second idle)...");
    for (Row row :
        FreshProcess.run(Session.javaCommand(FreshCaller.class, n, "--idle-rss"), TIMEOUT, r -> {})
            .rows()) {
      if (row.workload().startsWith("rss-")) {
        s.emit(row);
      }
    }
    if (s.python().isPresent()) {
      s.progress("rss: python-process...");
      s.python().get().run(List.of("rss", "--workers", n), s::emit);
    }
  }
}
