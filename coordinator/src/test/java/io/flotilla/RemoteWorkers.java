package io.flotilla;

import io.flotilla.internal.server.CoordinatorServer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A coordinator server in this JVM, on loopback with a secret, and worker JVMs that join it as
 * {@code flotilla worker} does: what {@link ClusterPool} tests connect to.
 */
final class RemoteWorkers implements AutoCloseable {
  static final String SECRET = "contract-" + ProcessHandle.current().pid();

  private final CoordinatorServer server;
  private final List<Process> workers = new ArrayList<>();
  private final Path dir;

  RemoteWorkers(Path dir) throws IOException {
    this(dir, java.util.Map.of(), io.flotilla.internal.jobs.JobLimits.DEFAULT);
  }

  /**
   * @param dir scratch space
   * @param maxAttempts runs of a chunk before it fails with the crash of the worker running it
   */
  RemoteWorkers(Path dir, int maxAttempts) throws IOException {
    this(
        dir,
        java.util.Map.of(),
        io.flotilla.internal.jobs.JobLimits.DEFAULT,
        maxAttempts,
        CoordinatorServer.Settings.DEFAULT_NO_WORKERS_TIMEOUT);
  }

  /**
   * @param dir scratch space
   * @param tokens job-service clients' tokens, with their names
   * @param limits the job service's limits
   */
  RemoteWorkers(
      Path dir, java.util.Map<String, String> tokens, io.flotilla.internal.jobs.JobLimits limits)
      throws IOException {
    this(dir, tokens, limits, 3, CoordinatorServer.Settings.DEFAULT_NO_WORKERS_TIMEOUT);
  }

  /**
   * @param dir scratch space
   * @param tokens job-service clients' tokens, with their names
   * @param limits the job service's limits
   * @param noWorkersTimeout how long work waits with no worker before it fails
   */
  RemoteWorkers(
      Path dir,
      java.util.Map<String, String> tokens,
      io.flotilla.internal.jobs.JobLimits limits,
      Duration noWorkersTimeout)
      throws IOException {
    this(dir, tokens, limits, 3, noWorkersTimeout);
  }

  private RemoteWorkers(
      Path dir,
      java.util.Map<String, String> tokens,
      io.flotilla.internal.jobs.JobLimits limits,
      int maxAttempts,
      Duration noWorkersTimeout)
      throws IOException {
    this.dir = dir;
    server =
        CoordinatorServer.start(
            new CoordinatorServer.Settings(
                "127.0.0.1",
                0,
                0,
                null,
                SECRET,
                dir.resolve("coordinator"),
                maxAttempts,
                Duration.ofSeconds(3),
                null,
                com.typesafe.config.ConfigFactory.empty(),
                tokens,
                limits,
                noWorkersTimeout,
                // Served on a free port, for the tests that read it.
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0)));
  }

  String address() {
    return "127.0.0.1:" + server.port();
  }

  /**
   * Starts a worker host joining this coordinator, as {@code flotilla worker} does: it runs its
   * tasks in a task JVM with one run thread, which it starts again whenever it dies.
   *
   * @param jvmOptions options for its task JVMs
   */
  synchronized Process addWorker(String... jvmOptions) throws IOException {
    List<String> command =
        new ArrayList<>(
            Processes.workerCommand(
                "--join",
                address(),
                "--threads",
                "1",
                "--cache-dir",
                dir.resolve("code-" + workers.size()).toString(),
                "--watch-parent"));
    for (String option : jvmOptions) {
      command.add("--jvm-option");
      command.add(option);
    }
    ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
    builder.environment().put("FLOTILLA_SECRET", SECRET);
    Process p = builder.start();
    workers.add(p);
    return p;
  }

  /**
   * @return the worker hosts started, in order
   */
  synchronized List<Process> hosts() {
    return List.copyOf(workers);
  }

  CoordinatorServer server() {
    return server;
  }

  /** A pool on these workers, tracked for the hang guard. */
  ClusterPool connect() {
    return Pools.track(ClusterPool.builder(address()).secret(SECRET).build());
  }

  @Override
  public synchronized void close() {
    server.close();
    for (Process p : workers) {
      p.destroyForcibly();
    }
    for (Process p : workers) {
      try {
        p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
