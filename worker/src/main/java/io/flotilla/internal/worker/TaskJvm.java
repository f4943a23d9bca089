package io.flotilla.internal.worker;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One JVM that runs a worker host's tasks, started by {@link WorkerSupervisor}. Its stdout and
 * stderr are passed through to the host's own; the last lines of stderr are kept for the crash
 * report. Two lines on stdout are the task JVM's news to its parent and are not passed on: {@link
 * #READY} when it is ready for work, and {@link #ENDING} with its exit code when it ends in order;
 * an exit without the latter is a death.
 *
 * <p>The secret goes to the JVM on its stdin, which stays open: the JVM ends itself when the pipe
 * closes, so that a host killed with SIGKILL leaves no orphan.
 */
final class TaskJvm {
  /** Printed by a task JVM once it is ready for work. */
  static final String READY = "\u001eflotilla task JVM ready";

  /**
   * Printed by a task JVM, followed by its exit code, as it ends in order; then, if a signal asked
   * it to end, a space and the signal's name.
   */
  static final String ENDING = "\u001eflotilla task JVM ending ";

  /** Lines of stderr kept for crash reports: enough for a JVM's fatal error summary. */
  private static final int TAIL_LINES = 20;

  /** How long the pipes may stay open after the process exits (a grandchild may hold them). */
  private static final long DRAIN_MILLIS = 2_000;

  /**
   * How a task JVM ended.
   *
   * @param code its exit code; 128+N when signal N ended it
   * @param announced whether it said it was ending (an orderly end, not a death)
   * @param signal the signal that asked it to end in order (SIGTERM), or {@code null}
   * @param wasReady whether it had become ready for work
   * @param stderrTail the last lines of its stderr
   */
  record Exit(int code, boolean announced, String signal, boolean wasReady, String stderrTail) {}

  final String id;
  final Process process;
  private final CompletableFuture<Void> ready = new CompletableFuture<>();
  private final CompletableFuture<Void> stdoutDone = new CompletableFuture<>();
  private final CompletableFuture<Void> stderrDone = new CompletableFuture<>();
  private final ArrayDeque<String> tail = new ArrayDeque<>(); // guarded by itself
  private volatile Integer announced;
  private volatile String signal;
  private final CompletableFuture<Exit> exit;

  private TaskJvm(String id, Process process) {
    this.id = id;
    this.process = process;
    pump(process.getInputStream(), System.out, false, stdoutDone);
    pump(process.getErrorStream(), System.err, true, stderrDone);
    this.exit =
        process
            .onExit()
            .thenCompose(
                p ->
                    CompletableFuture.allOf(stdoutDone, stderrDone)
                        .completeOnTimeout(null, DRAIN_MILLIS, TimeUnit.MILLISECONDS))
            .thenApply(
                done -> {
                  Integer said = announced;
                  return new Exit(
                      process.exitValue(), said != null, signal, ready.isDone(), stderrTail());
                });
  }

  /**
   * Starts a task JVM.
   *
   * @param id its worker id
   * @param command its command line
   * @param secret written to its stdin as the first line
   * @return the started JVM
   * @throws IOException if it cannot be started
   */
  static TaskJvm start(String id, List<String> command, String secret) throws IOException {
    Process process = new ProcessBuilder(command).start();
    TaskJvm jvm = new TaskJvm(id, process);
    try {
      OutputStream stdin = process.getOutputStream();
      stdin.write((secret + "\n").getBytes(StandardCharsets.UTF_8));
      stdin.flush();
    } catch (IOException e) {
      // It died at once: its exit says how.
    }
    return jvm;
  }

  /**
   * @return completes when the JVM is ready for work
   */
  CompletableFuture<Void> ready() {
    return ready;
  }

  /**
   * @return completes with how it ended, once it has and its output is drained
   */
  CompletableFuture<Exit> exit() {
    return exit;
  }

  /** Asks it to stop (SIGTERM): it leaves its coordinator in order and exits 0. */
  void stop() {
    // Through the handle: Process.destroy() would also close the pipe to its stdin, and the JVM
    // takes that for its host's death and halts before it can leave in order.
    process.toHandle().destroy();
  }

  /** Ends it now (SIGKILL). */
  void kill() {
    process.destroyForcibly();
  }

  private String stderrTail() {
    synchronized (tail) {
      return String.join("\n", tail);
    }
  }

  private void pump(
      InputStream from, PrintStream to, boolean keepTail, CompletableFuture<Void> done) {
    Thread t =
        new Thread(
            () -> {
              try (BufferedReader in =
                  new BufferedReader(new InputStreamReader(from, StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                  if (!keepTail && line.equals(READY)) {
                    ready.complete(null);
                  } else if (!keepTail && line.startsWith(ENDING)) {
                    String[] words = line.substring(ENDING.length()).trim().split(" ", 2);
                    try {
                      signal = words.length > 1 ? words[1] : null;
                      announced = Integer.parseInt(words[0]);
                    } catch (NumberFormatException e) {
                      to.println(line);
                    }
                  } else {
                    to.println(line);
                    if (keepTail) {
                      synchronized (tail) {
                        if (tail.size() == TAIL_LINES) {
                          tail.pollFirst();
                        }
                        tail.addLast(line);
                      }
                    }
                  }
                }
              } catch (IOException e) {
                // the pipe broke: the process is gone
              } finally {
                done.complete(null);
              }
            },
            "flotilla-" + id + (keepTail ? "-stderr" : "-stdout"));
    t.setDaemon(true);
    t.start();
  }
}
