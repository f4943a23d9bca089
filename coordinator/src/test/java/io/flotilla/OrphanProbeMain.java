package io.flotilla;

import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;

/**
 * Run in a child JVM by {@link OrphanWorkersTest}: starts a pool, runs a task, prints its worker
 * pids on a line starting with {@code PIDS}, then blocks until it is killed. It never closes the
 * pool.
 */
public final class OrphanProbeMain {
  private OrphanProbeMain() {}

  public static void main(String[] args) {
    try {
      ProcessPool pool = ProcessPool.local(2);
      pool.submit(() -> 1).get();
      System.out.println(
          "PIDS "
              + pool.workerPids().stream().map(String::valueOf).collect(Collectors.joining(" ")));
      System.out.flush();
      new CountDownLatch(1).await();
    } catch (Throwable t) {
      // The pool's own threads would keep this JVM alive: exit, so the test reports the cause at
      // once
      // rather than waiting out its bound.
      System.out.println("FAILED " + t);
      t.printStackTrace(System.out);
      System.out.flush();
      Runtime.getRuntime().halt(1);
    }
  }
}
