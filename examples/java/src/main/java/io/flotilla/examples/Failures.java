package io.flotilla.examples;

import io.flotilla.MapResults;
import io.flotilla.ProcessPool;
import io.flotilla.RemoteTraceback;
import io.flotilla.WorkerCrashedException;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * What failures look like to the caller: a task's own exception, rebuilt here with where it ran; a
 * map that goes on past a failed item; a worker that dies, which fails its task and is replaced.
 */
public final class Failures {
  private Failures() {}

  public static void main(String[] args) throws Exception {
    // maxAttempts(1): a task whose worker dies fails at once, instead of being run again elsewhere.
    try (ProcessPool pool = ProcessPool.builder().workers(2).maxAttempts(1).build()) {
      try {
        pool.submit(() -> parse("forty-two")).get();
      } catch (ExecutionException e) {
        Throwable cause = e.getCause(); // the NumberFormatException the task threw
        long pid = RemoteTraceback.of(cause).map(RemoteTraceback::pid).orElse(-1L);
        System.out.println("task failed: " + cause + " (in worker pid " + pid + ")");
      }

      // In a map, a failed item throws when its turn comes; the items around it still arrive.
      try (MapResults<Integer> results = pool.map(Failures::parse, List.of("1", "two", "3"))) {
        while (results.hasNext()) {
          try {
            System.out.println("item: " + results.next());
          } catch (CompletionException e) {
            long index = RemoteTraceback.of(e).map(RemoteTraceback::itemIndex).orElse(-1L);
            System.out.println("item " + index + " failed: " + e.getCause());
          }
        }
      }

      try {
        pool.submit(() -> crash(3)).get();
      } catch (ExecutionException e) {
        WorkerCrashedException crash = (WorkerCrashedException) e.getCause();
        System.out.println(
            "worker crashed: pid " + crash.pid() + ", exit code " + crash.exitCode());
      }
      System.out.println("the pool goes on: " + pool.submit(() -> parse("7")).get());
    }
  }

  static int parse(String text) {
    return Integer.parseInt(text);
  }

  /** Ends the worker's JVM at once, as a crash would: no exception, no result. */
  static int crash(int exitCode) {
    Runtime.getRuntime().halt(exitCode);
    return 0;
  }
}
