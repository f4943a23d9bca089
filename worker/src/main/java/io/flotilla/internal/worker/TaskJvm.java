package io.flotilla.internal.worker;

import io.flotilla.internal.launch.LinePump;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
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
  private final LinePump stdout;
  private final LinePump stderr;
  private volatile Integer announced;
  private volatile String signal;
  private final CompletableFuture<Exit> exit;

  private TaskJvm(String id, Process process) {
    this.id = id;
    this.process = process;
    this.stdout =
        LinePump.start(process.getInputStream(), "flotilla-" + id + "-stdout", this::stdoutLine);
    this.stderr =
        LinePump.start(process.getErrorStream(), "flotilla-" + id + "-stderr", System.err::println);
    this.exit =
        process
            .onExit()
            .thenCompose(
                p ->
                    CompletableFuture.allOf(stdout.done(), stderr.done())
                        .completeOnTimeout(null, DRAIN_MILLIS, TimeUnit.MILLISECONDS))
            .thenApply(
                done -> {
                  Integer said = announced;
                  return new Exit(
                      process.exitValue(), said != null, signal, ready.isDone(), stderr.tail());
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

  /** A line of the task JVM's stdout: its news to this host, or output passed on. */
  private void stdoutLine(String line) {
    if (line.equals(READY)) {
      ready.complete(null);
    } else if (line.startsWith(ENDING)) {
      String[] words = line.substring(ENDING.length()).trim().split(" ", 2);
      try {
        signal = words.length > 1 ? words[1] : null;
        announced = Integer.parseInt(words[0]);
      } catch (NumberFormatException e) {
        System.out.println(line);
      }
    } else {
      System.out.println(line);
    }
  }
}
