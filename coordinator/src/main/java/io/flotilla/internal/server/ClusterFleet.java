package io.flotilla.internal.server;

import io.flotilla.internal.scheduler.FleetListener;
import io.flotilla.internal.scheduler.WorkerDeath;
import io.flotilla.proto.FleetChanged;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
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

  private final Map<String, Integer> threads = new ConcurrentHashMap<>();
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
  public void attached(String workerId) {}

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
    return CompletableFuture.completedFuture(new WorkerDeath(null, "", streamEnd));
  }

  @Override
  public CompletableFuture<WorkerDeath> left(String workerId, String why) {
    if (threads.remove(workerId) != null) {
      log.info("worker {} left: {} ({} workers left)", workerId, why, threads.size());
      changed();
    }
    return CompletableFuture.completedFuture(new WorkerDeath(null, "", "it left: " + why));
  }

  @Override
  public void initializerFailed(String workerId, long pid, Throwable error) {
    log.warn("worker {} (pid {}) failed to initialise", workerId, pid, error);
  }
}
