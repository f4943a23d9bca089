package io.flotilla.internal.worker;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one task JVM running for a worker host, as a local pool keeps its workers: whatever ends a
 * task JVM (a crash, {@code System.exit}, {@code halt}, heap exhaustion, a SIGKILL, its coordinator
 * stopping a task it ran), the host reports the death to its coordinator and starts a fresh JVM,
 * which attaches at once under a new worker id; {@link RestartBackoff} slows down a JVM that keeps
 * dying. The host itself, and its membership of the cluster, stay up throughout.
 *
 * <p>Lifecycle of one task JVM, and what the host does next:
 *
 * <pre>
 *  started ──► ready (attached, took its credits) ──► ...
 *     │
 *     ├─ ends in order, exit 0 (its coordinator is stopping) ──────► the host exits 0
 *     ├─ ends in order, refused by the coordinator ───────────────► the host exits 64
 *     ├─ ends in order, asked for a fresh JVM (a task cancelled) ─► started again at once
 *     ├─ ends in order on a signal of its own (SIGTERM) ──────────► started again at once
 *     ├─ ends in order, lost its coordinator ─────────────────────► started again, with back-off
 *     └─ dies (no word: crash, exit, halt, OOM, signal) ──────────► reported; started again
 *  the host is asked to stop (SIGTERM) ──► the JVM is asked to stop; it leaves in order; exit 0
 *  the cluster downs the host ───────────► the JVM is killed; exit 66
 * </pre>
 *
 * Not thread-safe: {@link #run} runs on the host's main thread.
 */
final class WorkerSupervisor {
  private static final Logger log = LoggerFactory.getLogger(WorkerSupervisor.class);

  /**
   * How long a task JVM asked to stop may take to leave before it is killed: leaving is one message
   * and an exit, but a user's shutdown hook could hold it.
   */
  private static final long LEAVE_GRACE_SECONDS = 10;

  /** Told how each task JVM ended; must not block. */
  interface DeathReport {
    /**
     * @param workerId the task JVM's worker id
     * @param pid its process id
     * @param exitCode its exit code (128+N for signal N)
     * @param stderrTail the last lines of its stderr
     */
    void exited(String workerId, long pid, int exitCode, String stderrTail);
  }

  private final String idPrefix;
  private final Function<String, List<String>> command;
  private final String secret;
  private final DeathReport report;
  private final Runnable firstReady;
  private final RestartBackoff backoff = new RestartBackoff();
  private int started;
  private long restarts;

  /**
   * @param idPrefix task JVMs are named this, a dash and their number
   * @param command the command line of a task JVM with the given worker id
   * @param secret the cluster secret, which a task JVM reads from its stdin
   * @param report told how each task JVM ended
   * @param firstReady run when the first task JVM is ready for work
   */
  WorkerSupervisor(
      String idPrefix,
      Function<String, List<String>> command,
      String secret,
      DeathReport report,
      Runnable firstReady) {
    this.idPrefix = idPrefix;
    this.command = command;
    this.secret = secret;
    this.report = report;
    this.firstReady = firstReady;
  }

  /**
   * Runs task JVMs one after another until the host is asked to stop, the cluster downs it, or a
   * task JVM ends in a way that starting another cannot help.
   *
   * @param stop completes when the host is asked to stop (a signal), with what asked
   * @param downed completes when the host's cluster member stops being one
   * @return the host's exit code ({@link WorkerExit})
   */
  int run(CompletableFuture<String> stop, CompletableFuture<Void> downed) {
    while (true) {
      if (stop.isDone()) {
        return WorkerExit.STOPPED;
      }
      if (downed.isDone()) {
        return WorkerExit.COORDINATOR_LOST;
      }
      started++;
      String id = idPrefix + "-" + started;
      TaskJvm jvm;
      try {
        jvm = TaskJvm.start(id, command.apply(id), secret);
      } catch (IOException e) {
        log.error("cannot start a task JVM: {}", e.getMessage());
        return WorkerExit.FAILED;
      }
      if (started == 1) {
        var unused = jvm.ready().thenRun(firstReady);
      } else {
        var unused =
            jvm.ready()
                .thenRun(() -> log.info("task JVM {} (pid {}) ready", id, jvm.process.pid()));
      }
      CompletableFuture.anyOf(jvm.exit(), stop, downed).join();
      if (!jvm.exit().isDone()) {
        return end(jvm, stop.isDone());
      }
      TaskJvm.Exit exit = jvm.exit().join();
      long now = System.nanoTime();
      if (!exit.announced() || exit.code() != WorkerExit.STOPPED) {
        report.exited(id, jvm.process.pid(), exit.code(), exit.stderrTail());
      }
      long delay;
      if (exit.announced() && exit.signal() != null) {
        // Someone stopped this task JVM alone (its host was not asked): it left in order, and the
        // host goes on with a fresh one.
        restarts++;
        log.info(
            "task JVM {} stopped on {}; starting a fresh one (restart {})",
            id,
            exit.signal(),
            restarts);
        continue;
      }
      if (exit.announced()) {
        switch (exit.code()) {
          case WorkerExit.STOPPED -> {
            log.info("task JVM {} stopped with its coordinator; exiting", id);
            return WorkerExit.STOPPED;
          }
          case WorkerExit.REFUSED -> {
            return WorkerExit.REFUSED;
          }
          case WorkerExit.RESTART -> {
            restarts++;
            log.info(
                "task JVM {} exited as its coordinator asked (to stop a task it ran); starting a"
                    + " fresh one (restart {})",
                id,
                restarts);
            continue;
          }
          default -> {
            delay = backoff.afterDeath(!exit.wasReady(), now);
            restarts++;
            log.warn(
                "task JVM {} lost its coordinator; starting a fresh one{} (restart {})",
                id,
                delay == 0 ? "" : " in " + millis(delay),
                restarts);
          }
        }
      } else {
        // A JVM killed from outside before it was ready did not fail to start.
        boolean startFailure = !exit.wasReady() && exit.code() < 128;
        delay = backoff.afterDeath(startFailure, now);
        restarts++;
        log.warn(
            "task JVM {} (pid {}) died {}{}; starting a fresh one{} (restart {}, {} deaths in the last"
                + " {} s)",
            id,
            jvm.process.pid(),
            how(exit.code()),
            startFailure ? " before it was ready" : "",
            delay == 0 ? "" : " in " + millis(delay) + ", as it keeps dying",
            restarts,
            backoff.recentDeaths(now),
            TimeUnit.NANOSECONDS.toSeconds(RestartBackoff.WINDOW_NANOS));
      }
      if (delay > 0) {
        try {
          CompletableFuture.anyOf(stop, downed).get(delay, TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
          // time to start the next one
        } catch (ExecutionException e) {
          // neither future fails
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return WorkerExit.FAILED;
        }
      }
    }
  }

  /** Ends a running task JVM because the host stops (asked to, or downed). */
  private int end(TaskJvm jvm, boolean asked) {
    if (asked) {
      jvm.stop();
      try {
        jvm.exit().get(LEAVE_GRACE_SECONDS, TimeUnit.SECONDS);
      } catch (TimeoutException | ExecutionException e) {
        log.warn("task JVM {} did not leave within {} s; killing it", jvm.id, LEAVE_GRACE_SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    jvm.kill();
    try {
      jvm.process.waitFor(LEAVE_GRACE_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return asked ? WorkerExit.STOPPED : WorkerExit.COORDINATOR_LOST;
  }

  private static String how(int code) {
    if (code > 128 && code < 160) {
      return "on signal " + (code - 128) + (code == 137 ? " (SIGKILL)" : "");
    }
    return "with exit code " + code + (code == 3 ? " (out of heap memory, or System.exit(3))" : "");
  }

  private static String millis(long nanos) {
    long ms = TimeUnit.NANOSECONDS.toMillis(nanos);
    return ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms";
  }
}
