package io.flotilla.internal.local;

import io.flotilla.internal.launch.LinePump;
import io.flotilla.internal.scheduler.WorkerDeath;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;

/**
 * One worker process this JVM launched: its output, copied to ours with the worker's id in front of
 * every line, the tail of its stderr for crash reports, and the stdin pipe whose closing tells it
 * to go.
 */
public final class LocalWorker {
  private final String id;
  private final Process process;
  private final OutputStream stdin;
  private final LinePump stderr;
  private final CompletableFuture<Integer> exited;
  private final boolean writesArchive;

  /**
   * @param writesArchive whether it writes a class data archive as it exits, which takes a moment
   * @param afterExit told the exit code before {@link #exited()} completes, so that whoever waits
   *     for the exit also waits for it
   */
  LocalWorker(
      String id, Process process, String token, boolean writesArchive, IntConsumer afterExit)
      throws IOException {
    this.id = id;
    this.writesArchive = writesArchive;
    this.process = process;
    this.exited =
        process
            .onExit()
            .thenApply(
                p -> {
                  afterExit.accept(p.exitValue());
                  return p.exitValue();
                });
    this.stdin = process.getOutputStream();
    stdin.write((token + "\n").getBytes(StandardCharsets.UTF_8));
    stdin.flush();
    String prefix = "[" + id + "] ";
    LinePump.start(
        process.getInputStream(),
        "flotilla-" + id + "-stdout",
        l -> System.out.println(prefix + l));
    this.stderr =
        LinePump.start(
            process.getErrorStream(),
            "flotilla-" + id + "-stderr",
            l -> System.err.println(prefix + l));
  }

  /**
   * @return the worker's id
   */
  public String id() {
    return id;
  }

  /**
   * @return the worker's process id
   */
  public long pid() {
    return process.pid();
  }

  /**
   * @return whether it writes a class data archive as it exits
   */
  public boolean writesArchive() {
    return writesArchive;
  }

  /**
   * @return whether the process is running
   */
  public boolean isAlive() {
    return process.isAlive();
  }

  /**
   * @return completes with the exit code when the process has exited
   */
  public CompletableFuture<Integer> exited() {
    return exited.copy();
  }

  /**
   * @param streamEnd how the worker's stream ended, for the report if the process outlived it
   * @return the exit code and stderr tail, once the process has exited and its stderr is drained. A
   *     process still alive two seconds after its stream ended has stopped answering (hung,
   *     stopped, or cut off): it is killed, and the report says so.
   */
  public CompletableFuture<WorkerDeath> deathReport(String streamEnd) {
    return process
        .onExit()
        .completeOnTimeout(null, 2, TimeUnit.SECONDS)
        .thenCompose(
            exited -> {
              if (exited != null) {
                return CompletableFuture.completedFuture("");
              }
              process.destroyForcibly();
              return process
                  .onExit()
                  .completeOnTimeout(null, 2, TimeUnit.SECONDS)
                  .thenApply(p -> "it stopped answering (" + streamEnd + ") and was killed");
            })
        .thenCompose(
            how ->
                stderr
                    .done()
                    .copy()
                    .completeOnTimeout(null, 1, TimeUnit.SECONDS)
                    .thenApply(
                        v ->
                            new WorkerDeath(
                                process.isAlive() ? null : process.exitValue(),
                                stderrTail(),
                                how)));
  }

  /**
   * @return the last lines of stderr
   */
  public String stderrTail() {
    return stderr.tail();
  }

  /** Closes the stdin pipe, which the worker takes as the order to exit. */
  public void closeStdin() {
    try {
      stdin.close();
    } catch (IOException ignored) {
      // already closed by the process's death
    }
  }

  /** Kills the process at once. */
  public void kill() {
    process.destroyForcibly();
  }
}
