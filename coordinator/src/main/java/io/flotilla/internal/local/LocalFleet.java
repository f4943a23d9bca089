package io.flotilla.internal.local;

import io.flotilla.BrokenPoolException;
import io.flotilla.internal.scheduler.FleetListener;
import io.flotilla.internal.scheduler.WorkerDeath;
import io.flotilla.internal.scheduler.WorkerLinkServer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a local pool's worker processes alive: starts them in parallel, replaces one that exits,
 * and stops them all, for certain, when the pool ends.
 *
 * <p>Worker lifecycle: STARTING (process launched) → ATTACHED (handshake passed) → READY
 * (initializer done; receives work) → EXITED. An exit while the pool runs starts a replacement,
 * unless workers keep exiting before they become ready ({@link #MAX_START_FAILURES} in a row, with
 * none ready): then starting is hopeless (a bad JVM flag, a missing class) and the pool is broken
 * with the last one's exit code and stderr, instead of silently shrinking to nothing.
 */
public final class LocalFleet implements FleetListener {
  /**
   * Looked up on first use, not when the class loads: the first lookup configures the logging
   * backend (a third of a second for Logback reading its XML), and a pool launches its workers
   * first.
   */
  private static final class Log {
    static final Logger LOG = LoggerFactory.getLogger(LocalFleet.class);
  }

  /** Consecutive workers that may die before becoming ready before the pool gives up. */
  static final int MAX_START_FAILURES = 3;

  /** How long workers get to obey Stop before their stdin is closed. */
  private static final long STOP_ASK_MILLIS = 1_000;

  /** How long they then get to exit on their own before they are killed. */
  private static final long STOP_GRACE_MILLIS = 4_000;

  /**
   * Further patience for a worker writing the class data archive as it exits: about a second on an
   * idle machine, much more on a busy one, and killing it would throw the archive away.
   */
  private static final long ARCHIVE_GRACE_MILLIS = 30_000;

  private final WorkerLauncher launcher;
  private final int size;
  private final Map<String, LocalWorker> workers = new ConcurrentHashMap<>();
  private final Set<String> ready = ConcurrentHashMap.newKeySet();
  private final Set<String> retiring = ConcurrentHashMap.newKeySet();
  private final Set<String> killed = ConcurrentHashMap.newKeySet();
  private final AtomicInteger nextId = new AtomicInteger();
  private final Object lock = new Object();
  private boolean stopping; // guarded by lock
  private boolean broken; // guarded by lock
  private int startFailures; // guarded by lock
  private long crashes; // guarded by lock
  private long replacements; // guarded by lock

  /** Completes in {@link #attach}, which sets the two fields below before any exit is handled. */
  private final CompletableFuture<Void> attached = new CompletableFuture<>();

  private WorkerLinkServer server;
  private Consumer<Throwable> onBroken;
  private volatile int port;
  private String token;

  /**
   * @param launcher starts one worker
   * @param size how many workers to keep
   */
  public LocalFleet(WorkerLauncher launcher, int size) {
    this.launcher = launcher;
    this.size = size;
  }

  /**
   * Launches every worker at once; they boot in parallel, while the caller builds the server they
   * will attach to. Exits are held back until {@link #attach}.
   *
   * @param port where the server will listen
   * @param token the secret they present
   */
  public void launch(int port, String token) {
    this.port = port;
    this.token = token;
    for (int i = 0; i < size; i++) {
      launchOne();
    }
  }

  /**
   * Connects the fleet to the pool: from now on an exit is reported to the server and replaced.
   *
   * @param server the link server the workers attach to
   * @param onBroken called once if the pool cannot go on
   */
  public void attach(WorkerLinkServer server, Consumer<Throwable> onBroken) {
    this.server = server;
    this.onBroken = onBroken;
    attached.complete(null);
  }

  /**
   * The server could not listen on the port the workers were given: they are killed (not counted as
   * crashes) and replaced by workers told the new one.
   *
   * @param newPort where the server listens
   */
  public void movePort(int newPort) {
    List<LocalWorker> booting;
    synchronized (lock) {
      port = newPort;
      booting = new ArrayList<>(workers.values());
    }
    for (LocalWorker w : booting) {
      kill(w.id());
    }
  }

  private void launchOne() {
    String id = "w" + nextId.incrementAndGet();
    LocalWorker worker;
    try {
      worker = launcher.launch(id, port, token);
    } catch (IOException e) {
      breakPool(new BrokenPoolException("cannot start a worker JVM: " + e.getMessage(), e));
      return;
    }
    synchronized (lock) {
      if (stopping) {
        // Launched while the pool was stopping (a replacement racing close()): it has no future.
        worker.kill();
        return;
      }
      workers.put(id, worker);
    }
    var unused = worker.exited().thenAcceptBoth(attached, (code, v) -> exited(worker, code));
  }

  /**
   * Kills a worker to stop the chunk it is running (a cancelled or timed-out task); it is replaced
   * like any worker that exits, but its death is not counted as a crash.
   *
   * @param workerId the worker
   */
  public void kill(String workerId) {
    LocalWorker worker = workers.get(workerId);
    if (worker != null) {
      killed.add(workerId);
      worker.kill();
    }
  }

  /**
   * A worker has had its task quota: its replacement starts now, while it finishes what it holds,
   * and its exit will not count as a crash.
   *
   * @param workerId the retiring worker
   */
  public void recycling(String workerId) {
    retiring.add(workerId);
    synchronized (lock) {
      if (stopping || broken) {
        return;
      }
    }
    // Off the caller's thread: starting a process is I/O, and the caller may be a network thread.
    var unused = CompletableFuture.runAsync(this::launchOne);
  }

  private void exited(LocalWorker worker, int code) {
    server.processExited(worker.id());
    boolean wasReady = ready.remove(worker.id());
    if (retiring.remove(worker.id())) {
      return;
    }
    boolean deliberate = killed.remove(worker.id());
    // Killed from outside (SIGKILL, SIGTERM) says nothing about whether a worker can start.
    boolean killed = code == 128 + 9 || code == 128 + 15;
    boolean hopeless;
    synchronized (lock) {
      if (stopping || broken) {
        return;
      }
      if (!deliberate) {
        crashes++;
      }
      startFailures = wasReady || killed ? 0 : startFailures + 1;
      hopeless = startFailures >= MAX_START_FAILURES && ready.isEmpty();
    }
    if (hopeless) {
      var unused =
          worker
              .deathReport("")
              .thenAccept(
                  death ->
                      breakPool(
                          new BrokenPoolException(
                              "worker JVMs keep exiting before they are ready: "
                                  + MAX_START_FAILURES
                                  + " in a row; the last, "
                                  + worker.id()
                                  + " (pid "
                                  + worker.pid()
                                  + "), exited with code "
                                  + code
                                  + (death.stderrTail().isBlank()
                                      ? ""
                                      : "; its stderr ended with:\n" + death.stderrTail()),
                              null)));
      return;
    }
    Log.LOG.warn(
        "worker {} (pid {}) exited with code {}{}; starting a replacement",
        worker.id(),
        worker.pid(),
        code,
        wasReady ? "" : " before it was ready");
    synchronized (lock) {
      replacements++;
    }
    launchOne();
  }

  private void breakPool(Throwable cause) {
    synchronized (lock) {
      if (broken || stopping) {
        return;
      }
      broken = true;
    }
    // A worker that cannot even be launched breaks the pool before it is wired up: tell it then.
    var unused = attached.thenRun(() -> onBroken.accept(cause));
  }

  @Override
  public void attached(String workerId) {
    Log.LOG.debug("worker {} attached", workerId);
  }

  @Override
  public void ready(String workerId, int threads) {
    ready.add(workerId);
    synchronized (lock) {
      startFailures = 0;
    }
  }

  @Override
  public CompletableFuture<WorkerDeath> lost(String workerId, String streamEnd) {
    LocalWorker worker = workers.get(workerId);
    return worker == null
        ? CompletableFuture.completedFuture(WorkerDeath.UNKNOWN)
        : worker.deathReport(streamEnd);
  }

  @Override
  public void initializerFailed(String workerId, long pid, Throwable error) {
    breakPool(
        new BrokenPoolException(
            "the initializer failed in worker " + workerId + " (pid " + pid + "): " + error,
            error));
  }

  /**
   * @return worker processes that exited while the pool was running
   */
  public long crashes() {
    synchronized (lock) {
      return crashes;
    }
  }

  /**
   * @return worker processes started to replace others
   */
  public long replacements() {
    synchronized (lock) {
      return replacements;
    }
  }

  /**
   * @return the pids of the worker processes alive now
   */
  public List<Long> livePids() {
    List<Long> pids = new ArrayList<>();
    for (LocalWorker w : workers.values()) {
      if (w.isAlive()) {
        pids.add(w.pid());
      }
    }
    return pids;
  }

  /**
   * Stops every worker: asks them over their streams to exit, closes the stdin of those still
   * running after a moment (a worker still booting has no stream yet), and kills any still alive
   * after a grace period.
   *
   * @return completes when every worker process has exited
   */
  public CompletableFuture<Void> stop() {
    List<LocalWorker> all;
    synchronized (lock) {
      stopping = true;
      all = new ArrayList<>(workers.values());
    }
    server.stopWorkers();
    // A worker still booting holds no work and cannot hear Stop yet: waiting for it would only make
    // close() slow. Except the one writing the class data archive: killed, it writes nothing, and a
    // short program would never get an archive. It is told to stop as soon as it attaches.
    List<LocalWorker> booting = new ArrayList<>();
    for (LocalWorker w : all) {
      if (!ready.contains(w.id())) {
        if (w.writesArchive()) {
          booting.add(w);
        } else {
          w.kill();
        }
      }
    }
    CompletableFuture<Void> allExited =
        CompletableFuture.allOf(
            all.stream().map(LocalWorker::exited).toArray(CompletableFuture[]::new));
    // completeOnTimeout completes the future it is called on: time out copies, never allExited
    // itself,
    // which must mean what it says.
    return allExited
        .copy()
        .completeOnTimeout(null, STOP_ASK_MILLIS, TimeUnit.MILLISECONDS)
        .thenCompose(
            v -> {
              // Its stdin closing would end a booting archive writer before it has loaded what it
              // archives.
              all.stream().filter(w -> !booting.contains(w)).forEach(LocalWorker::closeStdin);
              return allExited
                  .copy()
                  .completeOnTimeout(null, STOP_GRACE_MILLIS, TimeUnit.MILLISECONDS);
            })
        .thenCompose(
            v -> {
              killStragglers(all, false);
              return allExited
                  .copy()
                  .completeOnTimeout(null, ARCHIVE_GRACE_MILLIS, TimeUnit.MILLISECONDS);
            })
        .thenCompose(
            v -> {
              killStragglers(all, true);
              return allExited;
            })
        .whenComplete((v, e) -> server.shutdown());
  }

  private static void killStragglers(List<LocalWorker> all, boolean evenArchiving) {
    for (LocalWorker w : all) {
      if (w.isAlive() && (evenArchiving || !w.writesArchive())) {
        Log.LOG.warn("worker {} (pid {}) did not exit when stopped; killing it", w.id(), w.pid());
        w.kill();
      }
    }
  }

  /** Kills every worker at once: for a JVM that exits without closing its pool. */
  public void killAll() {
    synchronized (lock) {
      stopping = true;
    }
    workers.values().forEach(LocalWorker::kill);
  }
}
