package io.flotilla.cli.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The loop behind {@code flotilla top} and {@code flotilla status --watch}: fetch a snapshot, draw
 * it, wait, again. Drawing is {@link FleetView}'s; this class only fetches, keeps time and talks to
 * the terminal.
 *
 * <p>Watching, it draws on the terminal's alternate screen (as top and less do), each frame from
 * the top left over the last one, and leaves that screen however the command ends: at an error, or
 * on Ctrl-C through a shutdown hook. A frame is one write, so the hook's cannot land inside it. A
 * dashboard that stops answering after the first frame is said so above the last frame, and asked
 * again at every tick (a coordinator that restarts is seen again); one that refuses the token, or
 * has no snapshot to give, ends the command.
 */
final class TopLoop {
  /** Alternate screen on, cursor hidden. */
  private static final String ENTER = "\033[?1049h\033[?25l";

  /** Cursor shown, alternate screen off: the terminal as it was. */
  private static final String LEAVE = "\033[?25h\033[?1049l";

  /** Cursor to the top left. */
  private static final String HOME = "\033[H";

  /** Clears from the cursor to the end of its line: what is left of a longer line before. */
  private static final String CLEAR_LINE = "\033[K";

  /** Clears from the cursor to the end of the screen: what is left of a longer frame before. */
  private static final String CLEAR_BELOW = "\033[J";

  /** The width without COLUMNS or a terminal to ask. */
  static final int DEFAULT_WIDTH = 120;

  private final DashboardClient client;
  private final Duration interval;
  private final String command;

  /**
   * @param client reads the snapshots
   * @param interval the time from one fetch to the next
   * @param command the command's name, for its error lines: {@code top} or {@code status}
   */
  TopLoop(DashboardClient client, Duration interval, String command) {
    this.client = client;
    this.interval = interval;
    this.command = command;
  }

  /**
   * Builds the loop from a command's options.
   *
   * @param dashboard the --dashboard value, or null for the default
   * @param interval the --interval value, or null for 1s
   * @param tokenFile the --token-file value, or null
   * @param tlsDir the --tls-dir value, or null
   * @param command the command's name
   * @return the loop
   * @throws IllegalArgumentException if a value is wrong, with what it should be
   */
  static TopLoop of(
      String dashboard, String interval, Path tokenFile, Path tlsDir, String command) {
    Path tls = JobConnection.tlsDir(tlsDir);
    Duration every = interval == null ? Duration.ofSeconds(1) : interval(interval);
    DashboardClient client =
        new DashboardClient(
            DashboardClient.baseUri(
                dashboard == null ? DashboardClient.DEFAULT : dashboard, tls != null),
            JobConnection.token(tokenFile),
            tls,
            // At least a few seconds to answer, and never so long that a frame lags far behind.
            every.compareTo(Duration.ofSeconds(5)) > 0 ? every : Duration.ofSeconds(5));
    return new TopLoop(client, every, command);
  }

  /**
   * @param text a duration as {@code 500ms}, {@code 2s}, or a number of seconds, {@code 0.5}
   * @return it, at least 100 ms
   */
  static Duration interval(String text) {
    Duration d;
    try {
      d = Duration.ofMillis(Math.round(Double.parseDouble(text.trim()) * 1000));
    } catch (NumberFormatException e) {
      d = io.flotilla.cli.cluster.Durations.parse(text);
    }
    if (d.compareTo(Duration.ofMillis(100)) < 0) {
      throw new IllegalArgumentException("--interval must be 100ms or more, not '" + text + "'");
    }
    return d;
  }

  /** The first snapshot could not be had: says why, and gives the exit code for it. */
  private int refused(DashboardClient.Failure f, PrintStream err) {
    err.println("flotilla " + command + ": " + f.getMessage());
    return f.exitCode();
  }

  /**
   * Prints one frame as plain text, no control codes: for scripts, logs and tests.
   *
   * @return the exit code: 0, or {@link DashboardClient.Failure#exitCode()}
   */
  int once(PrintStream out, PrintStream err) throws InterruptedException {
    JsonNode fleet;
    try {
      fleet = client.fleet();
    } catch (DashboardClient.Failure f) {
      return refused(f, err);
    }
    int width = envInt("COLUMNS", DEFAULT_WIDTH);
    for (String line : FleetView.render(fleet, width, 0)) {
      out.println(line);
    }
    out.flush();
    return JobExit.OK;
  }

  /**
   * Redraws until Ctrl-C, or until the dashboard refuses.
   *
   * @return the exit code, when the dashboard ends the watch
   */
  int watch(PrintStream out, PrintStream err) throws InterruptedException {
    JsonNode fleet;
    try {
      fleet = client.fleet();
    } catch (DashboardClient.Failure f) {
      return refused(f, err);
    }
    AtomicBoolean onScreen = new AtomicBoolean(true);
    Runnable leave =
        () -> {
          if (onScreen.getAndSet(false)) {
            out.print(LEAVE);
            out.flush();
          }
        };
    Thread restore = new Thread(leave, "flotilla-" + command + "-restore-terminal");
    Runtime.getRuntime().addShutdownHook(restore);
    out.print(ENTER);
    String trouble = null;
    long troubleSince = 0;
    try {
      while (true) {
        long tick = System.nanoTime();
        out.print(frame(fleet, trouble));
        out.flush();
        long wait = interval.toNanos() - (System.nanoTime() - tick);
        if (wait > 0) {
          TimeUnit.NANOSECONDS.sleep(wait);
        }
        try {
          fleet = client.fleet();
          trouble = null;
        } catch (DashboardClient.Failure f) {
          if (f.exitCode() != JobExit.UNREACHABLE) {
            leave.run();
            err.println("flotilla " + command + ": " + f.getMessage());
            return f.exitCode();
          }
          if (trouble == null) {
            troubleSince = System.nanoTime();
          }
          long s = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - troubleSince);
          trouble = "!! no answer for " + s + "s, trying again: " + f.getMessage();
        }
      }
    } finally {
      leave.run();
      try {
        Runtime.getRuntime().removeShutdownHook(restore);
      } catch (IllegalStateException stopping) {
        // The JVM is already stopping: the hook has run, or runs now.
      }
    }
  }

  /** One frame: the lines over the last frame's, and what is left of that cleared. */
  private static String frame(JsonNode fleet, String trouble) {
    int[] size = terminalSize();
    int width = envInt("COLUMNS", size == null ? DEFAULT_WIDTH : size[1]);
    int height = envInt("LINES", size == null ? 0 : size[0]);
    List<String> lines = new ArrayList<>();
    if (trouble != null) {
      lines.add(FleetView.fit(trouble, width));
    }
    lines.addAll(FleetView.render(fleet, width, height <= 0 ? 0 : height - lines.size()));
    StringBuilder b = new StringBuilder(HOME);
    for (int i = 0; i < lines.size(); i++) {
      // No line end after the last line: on the screen's last row, it would scroll the frame up.
      b.append(lines.get(i)).append(CLEAR_LINE).append(i + 1 < lines.size() ? "\r\n" : "");
    }
    return b.append(CLEAR_BELOW).toString();
  }

  /**
   * @return the terminal's rows and columns as {@code stty size} tells them, or null with no
   *     terminal; asked at every frame, so that a resized window is filled
   */
  private static int[] terminalSize() {
    File tty = new File("/dev/tty");
    if (!tty.canRead()) {
      return null;
    }
    try {
      Process stty =
          new ProcessBuilder("stty", "size")
              .redirectInput(tty)
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .start();
      String answer = new String(stty.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
      if (!stty.waitFor(1, TimeUnit.SECONDS) || stty.exitValue() != 0) {
        stty.destroyForcibly();
        return null;
      }
      String[] parts = answer.trim().split("\\s+");
      int[] size = {Integer.parseInt(parts[0]), Integer.parseInt(parts[1])};
      return size[0] > 0 && size[1] > 0 ? size : null;
    } catch (java.io.IOException | RuntimeException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  private static int envInt(String name, int fallback) {
    String v = System.getenv(name);
    try {
      return v == null || v.isBlank() ? fallback : Math.max(20, Integer.parseInt(v.trim()));
    } catch (NumberFormatException e) {
      return fallback;
    }
  }
}
