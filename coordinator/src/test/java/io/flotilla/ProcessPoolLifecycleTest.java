package io.flotilla;

import java.util.List;

/** The {@link PoolLifecycleContract} on worker JVMs. */
class ProcessPoolLifecycleTest extends PoolLifecycleContract {
  @Override
  PoolExecutor newPool() {
    return ProcessPool.builder().workers(2).build();
  }

  /** A worker is granted credit for one chunk beyond each run thread (its prefetch). */
  @Override
  int heldPerWorker() {
    return 1;
  }

  @Override
  List<Long> workerPids(PoolExecutor pool) {
    return ((ProcessPool) pool).workerPids();
  }
}
