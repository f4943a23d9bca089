package io.flotilla;

import java.util.List;

/** The {@link PoolLifecycleContract} on threads. */
class ThreadPoolLifecycleTest extends PoolLifecycleContract {
  @Override
  PoolExecutor newPool() {
    return ThreadPool.of(2);
  }

  @Override
  int heldPerWorker() {
    return 0;
  }

  @Override
  List<Long> workerPids(PoolExecutor pool) {
    return List.of();
  }
}
