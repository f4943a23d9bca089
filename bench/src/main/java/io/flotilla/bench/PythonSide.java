package io.flotilla.bench;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The Python half of the comparison: {@code flotilla_bench.py}, shipped in this jar, extracted to a
 * temporary directory and run in a fresh interpreter per workload. It prints result lines in the
 * same format as the Java side (see {@link Row}).
 *
 * <p>The interpreter is resolved once to its real executable ({@code sys.executable}), so that a
 * version manager's shim (pyenv's is a shell script) is not timed as part of Python's start-up.
 */
final class PythonSide implements AutoCloseable {
  private static final String SCRIPT = "flotilla_bench.py";

  /** The slowest Python run, map1m at chunksize 1, takes minutes on two cores. */
  private static final Duration TIMEOUT = Duration.ofMinutes(30);

  private final Path dir;
  private final Path script;
  private final String executable;
  private final String version;

  private PythonSide(Path dir, Path script, String executable, String version) {
    this.dir = dir;
    this.script = script;
    this.executable = executable;
    this.version = version;
  }

  /**
   * @param python the interpreter to use: a path, or a name looked up on the PATH
   * @return the Python side, or empty (with the reason on stderr) if that interpreter cannot run
   *     the script
   */
  static Optional<PythonSide> find(String python) {
    Optional<String> found = onPath(python);
    if (found.isEmpty()) {
      System.err.println("bench: no " + python + " on the PATH: no python-process rows");
      return Optional.empty();
    }
    Path dir = null;
    try {
      dir = Files.createTempDirectory("flotilla-bench-py");
      Path script = dir.resolve(SCRIPT);
      try (InputStream in = PythonSide.class.getResourceAsStream("python/" + SCRIPT)) {
        if (in == null) {
          throw new IOException(SCRIPT + " is missing from the bench jar");
        }
        Files.copy(in, script);
      }
      List<Row> about = new ArrayList<>();
      FreshProcess.run(
          List.of(found.get(), script.toString(), "version"), Duration.ofSeconds(30), about::add);
      if (about.isEmpty() || !(about.get(0).extras().get("executable") instanceof String exe)) {
        throw new IOException("its version command printed nothing");
      }
      return Optional.of(
          new PythonSide(dir, script, exe, String.valueOf(about.get(0).extras().get("version"))));
    } catch (IOException | RuntimeException e) {
      System.err.println(
          "bench: "
              + found.get()
              + " cannot run the Python side ("
              + e.getMessage()
              + "): no python-process rows");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    delete(dir);
    return Optional.empty();
  }

  private static Optional<String> onPath(String python) {
    if (python.contains(File.separator)) {
      return Files.isExecutable(Path.of(python)) ? Optional.of(python) : Optional.empty();
    }
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    for (String entry : path.split(File.pathSeparator)) {
      if (!entry.isEmpty() && Files.isExecutable(Path.of(entry, python))) {
        return Optional.of(Path.of(entry, python).toString());
      }
    }
    return Optional.empty();
  }

  /**
   * @return the interpreter's version, such as {@code 3.11.7}
   */
  String version() {
    return version;
  }

  /**
   * @return the interpreter's real executable
   */
  String executable() {
    return executable;
  }

  /**
   * @param args the script's arguments: a workload and its options
   * @return the full command line
   */
  List<String> command(List<String> args) {
    List<String> command = new ArrayList<>(List.of(executable, script.toString()));
    command.addAll(args);
    return command;
  }

  /**
   * Runs the script once in a fresh interpreter.
   *
   * @param args a workload and its options
   * @param onRow called with each result line as it arrives
   * @return what it printed, and when its first line arrived
   * @throws IOException if Python fails; its traceback is on stderr
   * @throws InterruptedException if interrupted; the interpreter is killed
   */
  FreshProcess.Output run(List<String> args, Consumer<Row> onRow)
      throws IOException, InterruptedException {
    return FreshProcess.run(command(args), TIMEOUT, onRow);
  }

  /**
   * @return whether Dask's {@code distributed} can be imported, for the optional python-dask rows
   */
  boolean hasDask() {
    try {
      Process p =
          new ProcessBuilder(executable, "-c", "import distributed")
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return false;
      }
      return p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  @Override
  public void close() {
    delete(dir);
  }

  private static void delete(Path dir) {
    if (dir == null) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + dir, e);
    }
  }
}
