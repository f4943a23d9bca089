package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The {@link PoolExecutorContract} on threads: the same tests as {@link ProcessPoolContractTest},
 * so that replacing {@code ProcessPool.local(n)} by {@code ThreadPool.of(n)} changes nothing but
 * where tasks run.
 */
class ThreadPoolContractTest extends PoolExecutorContract {
  private static ThreadPool pool;

  @BeforeAll
  static void startPool() {
    pool = Pools.track(ThreadPool.of(2));
  }

  @AfterAll
  static void stopPool() throws InterruptedException {
    Pools.shutDown(pool);
  }

  @Override
  PoolExecutor pool() {
    return pool;
  }

  @Override
  boolean remote() {
    return false;
  }

  @Test
  void argumentsAndResultsArePassedByReference() throws Exception {
    Payloads.HoldsThread notSerializable = new Payloads.HoldsThread();
    assertThat(get(pool.submit((Payloads.HoldsThread h) -> h, notSerializable)))
        .isSameAs(notSerializable);
    assertThat(pool.workers()).isEqualTo(2);
    assertThat(pool.parallelism()).isEqualTo(2);
  }
}
