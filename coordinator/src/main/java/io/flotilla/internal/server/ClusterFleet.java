package io.flotilla.internal.server;

import io.flotilla.internal.scheduler.FleetListener;
import io.flotilla.internal.scheduler.WorkerDeath;
import io.flotilla.proto.FleetChanged;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The workers a coordinator server has, as the link server reports them: it logs arrivals and
 * losses, and tells every connected client how many worker threads there are, which sizes their
 * windows. Workers are not its to start or stop: they come and go on their own machines.
 */
final class ClusterFleet implements FleetListener {
  private static final Logger log = LoggerFactory.getLogger(ClusterFleet.class);

  /**
   * How long a lost worker's chunks wait for its parent's report of how its task JVM died. The
   * parent sees the exit as soon as the coordinator sees the stream break, and reports it in one
   * call; no report within this time means the parent went too (a machine lost, a `kill -9` of the
   * `flotilla worker` process), and the crash is told without an exit code. Its chunks wait that
   * long before they run elsewhere.
   */
  static final long DEATH_REPORT_PATIENCE_MS = 2_000;

  private final Map<String, Integer> threads = new ConcurrentHashMap<>();

  /** Workers attached and not yet settled as lost: the ids whose death reports are awaited. */
  private final Set<String> attached = ConcurrentHashMap.newKeySet();

  /** How each attached worker died, as its parent reported it, or as awaited by its loss. */
  private final Map<String, CompletableFuture<WorkerDeath>> deaths = new ConcurrentHashMap<>();

  private final Set<Consumer<FleetChanged>> watchers = ConcurrentHashMap.newKeySet();

  /**
   * @return the fleet now
   */
  FleetChanged now() {
    int total = 0;
    for (int t : threads.values()) {
      total += t;
    }
    return FleetChanged.newBuilder().setThreads(total).setWorkers(threads.size()).build();
  }

  /**
   * @param watcher told of every change of the fleet, on the thread that made it; must not block
   */
  void watch(Consumer<FleetChanged> watcher) {
    watchers.add(watcher);
  }

  void unwatch(Consumer<FleetChanged> watcher) {
    watchers.remove(watcher);
  }

  private void changed() {
    FleetChanged now = now();
    for (Consumer<FleetChanged> w : watchers) {
      w.accept(now);
    }
  }

  @Override
  public void attached(String workerId) {
    attached.add(workerId);
  }

  /**
   * A task JVM's parent reports how it ended.
   *
   * @param workerId the id the task JVM attached with
   * @param exitCode its exit code (128+N for signal N)
   * @param stderrTail the last lines of its stderr
   */
  void taskJvmExited(String workerId, int exitCode, String stderrTail) {
    if (!attached.contains(workerId)) {
      // Died before it attached, or its loss was already settled: nothing waits for the news.
      return;
    }
    deaths
        .computeIfAbsent(workerId, id -> new CompletableFuture<>())
        .complete(new WorkerDeath(exitCode, stderrTail, ""));
  }

  @Override
  public void ready(String workerId, int workerThreads) {
    threads.put(workerId, workerThreads);
    log.info(
        "worker {} ready with {} threads ({} workers)", workerId, workerThreads, threads.size());
    changed();
  }

  @Override
  public CompletableFuture<WorkerDeath> lost(String workerId, String streamEnd) {
    if (threads.remove(workerId) != null) {
      log.warn("worker {} lost: {} ({} workers left)", workerId, streamEnd, threads.size());
      changed();
    }
    CompletableFuture<WorkerDeath> death =
        deaths.computeIfAbsent(workerId, id -> new CompletableFuture<>());
    return death
        .completeOnTimeout(
            new WorkerDeath(null, "", streamEnd), DEATH_REPORT_PATIENCE_MS, TimeUnit.MILLISECONDS)
        .whenComplete(
            (how, e) -> {
              deaths.remove(workerId, death);
              attached.remove(workerId);
            });
  }

  @Override
  public CompletableFuture<WorkerDeath> left(String workerId, String why) {
    if (threads.remove(workerId) != null) {
      log.info("worker {} left: {} ({} workers left)", workerId, why, threads.size());
      changed();
    }
    attached.remove(workerId);
    deaths.remove(workerId);
    return CompletableFuture.completedFuture(new WorkerDeath(null, "", "it left: " + why));
  }

  @Override
  public void initializerFailed(String workerId, long pid, Throwable error) {
    log.warn("worker {} (pid {}) failed to initialise", workerId, pid, error);
  }
}
