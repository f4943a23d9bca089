package io.flotilla.examples;

import io.flotilla.Futures;
import io.flotilla.PoolExecutor;
import io.flotilla.ProcessPool;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Results in the order they finish, not the order they were asked for: Python's {@code
 * as_completed} over submitted tasks, then {@code mapUnordered} for a whole input.
 */
public final class AsCompleted {
  private AsCompleted() {}

  public static void main(String[] args) {
    try (PoolExecutor pool = ProcessPool.local(3)) {
      List<CompletableFuture<String>> futures = new ArrayList<>();
      for (int millis : new int[] {1500, 100, 800}) {
        futures.add(pool.submit(() -> nap(millis)));
      }
      for (CompletableFuture<String> done : Futures.asCompleted(futures, Duration.ofMinutes(1))) {
        System.out.println("finished: " + done.join());
      }

      for (String result : pool.mapUnordered(AsCompleted::nap, List.of(600, 50, 300))) {
        System.out.println("unordered: " + result);
      }
    }
  }

  static String nap(int millis) throws InterruptedException {
    Thread.sleep(millis);
    return "slept " + millis + " ms";
  }
}
