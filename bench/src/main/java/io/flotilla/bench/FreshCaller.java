package io.flotilla.bench;

import io.flotilla.ProcessPool;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The caller program of the {@code startup} and {@code rss} workloads, which the benchmark runs in
 * a fresh JVM so that nothing is warm: creates a {@link ProcessPool}, submits one task and waits
 * for its result, then shuts the pool down and exits.
 *
 * <p>Usage: {@code FreshCaller WORKERS [--idle-rss]}. It prints result lines (see the benchmark's
 * JSON format) on stdout:
 *
 * <ul>
 *   <li>{@code startup}: seconds from just before {@code ProcessPool.local(WORKERS)} to the first
 *       {@code submit(...).get()} returning (class loading of the pool included, JVM start not: the
 *       parent times that, from spawn to this line's arrival);
 *   <li>with {@code --idle-rss}, after one second idle: {@code rss-worker}, the largest {@code
 *       VmRSS} among the worker JVMs, and {@code rss-coordinator}, this JVM's.
 * </ul>
 */
public final class FreshCaller {
  /**
   * Held so that JUL, which keeps loggers weakly, keeps the level: gRPC warns about streams cut at
   * exit.
   */
  private static final Logger GRPC_LOG = Logger.getLogger("io.grpc");

  private FreshCaller() {}

  /**
   * @param args the worker count, then optionally {@code --idle-rss}
   * @throws Exception if the pool fails; the exit status is then non-zero
   */
  public static void main(String[] args) throws Exception {
    int workers = Integer.parseInt(args[0]);
    boolean idleRss = args.length > 1 && args[1].equals("--idle-rss");
    long start = System.nanoTime();
    try (ProcessPool pool = ProcessPool.local(workers)) {
      pool.submit(() -> 1).get();
      double seconds = (System.nanoTime() - start) / 1e9;
      GRPC_LOG.setLevel(Level.SEVERE);
      System.out.println(Row.of("startup", "process", workers).seconds(seconds).toJson());
      System.out.flush();
      if (idleRss) {
        Thread.sleep(1000);
        List<Long> pids = pool.workerPids();
        double largest = 0;
        for (long pid : pids) {
          largest = Math.max(largest, Rss.megabytes(String.valueOf(pid)));
        }
        System.out.println(Row.of("rss-worker", "process", pids.size()).rssMb(largest).toJson());
        System.out.println(
            Row.of("rss-coordinator", "process", workers).rssMb(Rss.megabytes("self")).toJson());
        System.out.flush();
      }
    }
    // gRPC and the pool's helper threads need not be waited for once the pool is closed.
    System.exit(0);
  }
}
