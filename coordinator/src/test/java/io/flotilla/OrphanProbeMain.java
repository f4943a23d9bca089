package io.flotilla;

import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;

/**
 * Run in a child JVM by {@link OrphanWorkersTest}: starts a pool, runs a task, prints its worker pids
 * on a line starting with {@code PIDS}, then blocks until it is killed. It never closes the pool.
 */
public final class OrphanProbeMain {
  private OrphanProbeMain() {}

  public static void main(String[] args) throws Exception {
    ProcessPool pool = ProcessPool.local(2);
    pool.submit(() -> 1).get();
    System.out.println(
        "PIDS " + pool.workerPids().stream().map(String::valueOf).collect(Collectors.joining(" ")));
    System.out.flush();
    new CountDownLatch(1).await();
  }
}
