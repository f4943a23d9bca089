package io.flotilla.bench;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Runs a child process (a fresh JVM or Python interpreter) whose stdout carries result lines, and
 * times it from the moment it is spawned to the arrival of its first result line: what a user waits
 * for when a program that starts a pool is launched.
 *
 * <p>Lines starting with <code>{</code> are results; any other stdout line is copied to stderr. The
 * child's stderr goes to this JVM's stderr; its stdin is empty.
 */
final class FreshProcess {
  private FreshProcess() {}

  /**
   * What a child printed.
   *
   * @param secondsToFirstRow wall-clock seconds from spawn to the first result line; NaN if none
   *     came
   * @param rows every result line, in order
   */
  record Output(double secondsToFirstRow, List<Row> rows) {}

  /**
   * Runs the command to its end.
   *
   * @param command the program and its arguments
   * @param timeout how long it may take; after that it and its descendants are killed
   * @param onRow called with each result line as it arrives, on this thread
   * @return its results
   * @throws IOException if it cannot start, exits with a non-zero status, times out or prints a bad
   *     result line
   * @throws InterruptedException if interrupted while waiting; the child is killed
   */
  static Output run(List<String> command, Duration timeout, Consumer<Row> onRow)
      throws IOException, InterruptedException {
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectError(ProcessBuilder.Redirect.INHERIT);
    long spawn = System.nanoTime();
    Process child = builder.start();
    // Reading stdout cannot be interrupted by a deadline, so a watchdog kills a child that
    // overstays.
    AtomicBoolean overstayed = new AtomicBoolean();
    Thread watchdog =
        new Thread(
            () -> {
              try {
                if (!child.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                  overstayed.set(true);
                  kill(child);
                }
              } catch (InterruptedException e) {
                // the child was reaped: nothing to watch
              }
            },
            "bench-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
    double first = Double.NaN;
    List<Row> rows = new ArrayList<>();
    try (BufferedReader out =
        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = out.readLine()) != null) {
        if (!line.startsWith("{")) {
          System.err.println(line);
          continue;
        }
        if (rows.isEmpty()) {
          first = (System.nanoTime() - spawn) / 1e9;
        }
        Row row = Row.parse(line);
        rows.add(row);
        onRow.accept(row);
      }
    } catch (IllegalArgumentException e) {
      kill(child);
      throw new IOException(
          String.join(" ", command) + " printed a bad result line: " + e.getMessage(), e);
    }
    int status;
    try {
      status = child.waitFor();
    } catch (InterruptedException e) {
      kill(child);
      throw e;
    } finally {
      watchdog.interrupt();
    }
    if (overstayed.get()) {
      throw new IOException(
          String.join(" ", command) + " did not finish within " + timeout + " and was killed");
    }
    if (status != 0) {
      throw new IOException(String.join(" ", command) + " exited with status " + status);
    }
    return new Output(first, rows);
  }

  private static void kill(Process child) {
    child.descendants().forEach(ProcessHandle::destroyForcibly);
    child.destroyForcibly();
  }
}
