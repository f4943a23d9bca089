package io.flotilla.bench;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * What every benchmark of one run shares: the size of the run, the pools, the Python side and where
 * results go. Used by one thread at a time.
 */
final class Session {
  private final boolean quick;
  private final int workers;
  private final Pools pools;
  private final PythonSide python;
  private final Consumer<Row> sink;
  private boolean inconsistent;

  /**
   * @param quick whether this is a {@code --quick} run
   * @param workers N, the worker JVMs (and Python processes) of the CPU-bound workloads
   * @param pools the run's pools
   * @param python the Python side, or {@code null} when there is none
   * @param sink where measurements go
   */
  Session(boolean quick, int workers, Pools pools, PythonSide python, Consumer<Row> sink) {
    this.quick = quick;
    this.workers = workers;
    this.pools = pools;
    this.python = python;
    this.sink = sink;
  }

  boolean quick() {
    return quick;
  }

  /**
   * @return {@code full}, or {@code quick} in a {@code --quick} run
   */
  int size(int full, int quick) {
    return this.quick ? quick : full;
  }

  int workers() {
    return workers;
  }

  /**
   * @return the least time a JVM lane spends in untimed warm-up runs before it is timed: long
   *     enough for the JIT to compile the hot path in the caller and in the worker JVMs: three JVMs
   *     compiling on two cores take 10 to 20 seconds of no-op round trips to reach their steady
   *     pace (a single short warm-up run left submit at a third of it); Python lanes have no JIT
   *     and get one run. A quick run is an overview, not a measurement, and does without
   */
  java.time.Duration warmFor() {
    return quick ? java.time.Duration.ZERO : java.time.Duration.ofSeconds(10);
  }

  Pools pools() {
    return pools;
  }

  Optional<PythonSide> python() {
    return Optional.ofNullable(python);
  }

  /** Reports one measurement. */
  void emit(Row row) {
    sink.accept(row);
  }

  /** Progress and notes, on stderr: stdout carries only results. */
  void progress(String format, Object... args) {
    System.err.println("bench: " + String.format(Locale.ROOT, format, args));
  }

  /** Records that executors computed different results for the same workload: the run will fail. */
  void inconsistent(String workload, String detail) {
    inconsistent = true;
    progress(
        "%s: executors computed different results (%s): a bug, please report it", workload, detail);
  }

  /**
   * @return whether any workload gave different results on different executors
   */
  boolean anyInconsistent() {
    return inconsistent;
  }

  /**
   * The command line of a fresh JVM started as this one was: the same {@code java}, JVM flags (the
   * {@code --add-opens} that Kryo needs among them) and class path.
   *
   * @param mainClass the class to run
   * @param args its arguments
   * @return the command line
   */
  static List<String> javaCommand(Class<?> mainClass, String... args) {
    return javaCommand(null, mainClass, args);
  }

  /**
   * The same, with a class data archive of its own instead of this JVM's.
   *
   * @param sharing {@code -XX:SharedArchiveFile=...} or {@code -XX:ArchiveClassesAtExit=...}, or
   *     null to inherit this JVM's archive (never its writing of one: a child must not write it
   *     too)
   * @param mainClass the class to run
   * @param args its arguments
   * @return the command line
   */
  static List<String> javaCommand(String sharing, Class<?> mainClass, String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      boolean writesArchive = arg.startsWith("-XX:ArchiveClassesAtExit");
      boolean mapsArchive = arg.startsWith("-XX:SharedArchiveFile");
      if (!writesArchive && !(mapsArchive && sharing != null)) {
        command.add(arg);
      }
    }
    if (sharing != null) {
      command.add(sharing);
    }
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass.getName());
    command.addAll(List.of(args));
    return command;
  }
}
