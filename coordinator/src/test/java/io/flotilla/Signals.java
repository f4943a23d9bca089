package io.flotilla;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Rendezvous between a test and code running in worker JVMs, through files in the test's temporary
 * directory: a task can say "I started" ({@link #touch}) and wait for permission to go on ({@link
 * #await}), which holds a worker busy for exactly as long as the test needs.
 *
 * <p>The static methods run inside workers and take plain path strings (what a lambda may capture);
 * the instance methods are the test's side. A gate whose directory disappears (the test ended and
 * its temporary directory was deleted) or whose deadline passes makes the waiting task throw, so a
 * failed test never leaves a worker blocked for the next one.
 */
final class Signals {
  private final Path dir;
  private final List<String> gates = new ArrayList<>();

  Signals(Path dir) {
    this.dir = dir;
  }

  /**
   * @return the directory, as a string a task can capture
   */
  String dir() {
    return dir.toString();
  }

  /**
   * @return the path of a marker file a task may create
   */
  String marker(String name) {
    return dir.resolve(name).toString();
  }

  /**
   * @return the path of a new, closed gate; {@link #openAll()} opens it at the end of the test
   */
  synchronized String gate(String name) {
    String path = dir.resolve("gate-" + name).toString();
    gates.add(path);
    return path;
  }

  /** Opens a gate: tasks waiting on it go on. */
  void open(String gate) {
    touch(gate);
  }

  /** Opens every gate this test made. */
  synchronized void openAll() {
    gates.forEach(Signals::touch);
  }

  boolean exists(String path) {
    return Files.exists(Path.of(path));
  }

  /** Waits until a task has created {@code path}. */
  void awaitMarker(String path) {
    org.awaitility.Awaitility.await("marker " + path)
        .atMost(TestTime.LONG)
        .until(() -> exists(path));
  }

  /**
   * @return names of the files in the directory starting with {@code prefix}, sorted
   */
  List<String> list(String prefix) {
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith(prefix))
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ---------------------------------------------------------------- worker side

  /** Creates the file if its directory still exists. */
  static void touch(String path) {
    try {
      Files.createFile(Path.of(path));
    } catch (FileAlreadyExistsException | NoSuchFileException ignored) {
      // already signalled, or the test is over
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Blocks until the gate file exists.
   *
   * @throws IllegalStateException if the test's directory is gone or the gate stays closed too long
   */
  static void await(String gate) {
    Path file = Path.of(gate);
    long deadline = System.nanoTime() + TestTime.GATE.toNanos();
    while (!Files.exists(file)) {
      if (!Files.isDirectory(file.getParent())) {
        throw new IllegalStateException("gate " + gate + " will never open: its test has ended");
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("gate " + gate + " was not opened within " + TestTime.GATE);
      }
      try {
        // Polling a file: the only channel between the test and another JVM that needs no set-up.
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting at gate " + gate, e);
      }
    }
  }
}
