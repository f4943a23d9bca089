package io.flotilla.internal.local;

import io.flotilla.internal.scheduler.WorkerDeath;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;

/**
 * One worker process this JVM launched: its output, copied to ours with the worker's id in front of
 * every line, the tail of its stderr for crash reports, and the stdin pipe whose closing tells it
 * to go.
 */
public final class LocalWorker {
  /** Lines of stderr kept for crash reports: enough for a JVM's fatal error summary. */
  private static final int TAIL_LINES = 25;

  private final String id;
  private final Process process;
  private final OutputStream stdin;
  private final ArrayDeque<String> tail = new ArrayDeque<>(); // guarded by itself
  private final CompletableFuture<Void> stderrClosed = new CompletableFuture<>();
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
    pump(process.getInputStream(), System.out, false);
    pump(process.getErrorStream(), System.err, true);
  }

  private void pump(InputStream from, PrintStream to, boolean keepTail) {
    Thread t =
        new Thread(
            () -> {
              String prefix = "[" + id + "] ";
              try (BufferedReader in =
                  new BufferedReader(new InputStreamReader(from, StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                  to.println(prefix + line);
                  if (keepTail) {
                    synchronized (tail) {
                      if (tail.size() == TAIL_LINES) {
                        tail.pollFirst();
                      }
                      tail.addLast(line);
                    }
                  }
                }
              } catch (IOException e) {
                // the pipe broke with the process; what was read is kept
              } finally {
                if (keepTail) {
                  stderrClosed.complete(null);
                }
              }
            },
            "flotilla-" + id + (keepTail ? "-stderr" : "-stdout"));
    t.setDaemon(true);
    t.start();
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
                stderrClosed
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
    synchronized (tail) {
      return String.join("\n", tail);
    }
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
