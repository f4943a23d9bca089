package io.flotilla.internal.launch;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Reads a child process's output line by line on a daemon thread of its own, hands each line on,
 * and keeps the last few for a crash report. Thread-safe.
 */
public final class LinePump {
  /** Lines kept for a crash report: enough for a JVM's fatal error summary. */
  public static final int TAIL_LINES = 25;

  private final ArrayDeque<String> tail = new ArrayDeque<>(); // guarded by itself
  private final CompletableFuture<Void> done = new CompletableFuture<>();

  private LinePump() {}

  /**
   * Starts reading.
   *
   * @param from the child's stdout or stderr
   * @param threadName the reading thread's name
   * @param each told every line, on the reading thread
   * @return the pump
   */
  public static LinePump start(InputStream from, String threadName, Consumer<String> each) {
    LinePump pump = new LinePump();
    Thread t =
        new Thread(
            () -> {
              try (BufferedReader in =
                  new BufferedReader(new InputStreamReader(from, StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                  each.accept(line);
                  pump.keep(line);
                }
              } catch (IOException e) {
                // the pipe broke with the process; what was read is kept
              } finally {
                pump.done.complete(null);
              }
            },
            threadName);
    t.setDaemon(true);
    t.start();
    return pump;
  }

  private void keep(String line) {
    synchronized (tail) {
      if (tail.size() == TAIL_LINES) {
        tail.pollFirst();
      }
      tail.addLast(line);
    }
  }

  /**
   * @return the last lines read, joined by newlines
   */
  public String tail() {
    synchronized (tail) {
      return String.join("\n", tail);
    }
  }

  /**
   * @return completes when the stream has ended (the process closed it, or exited)
   */
  public CompletableFuture<Void> done() {
    return done;
  }
}
