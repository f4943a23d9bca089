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
  private boolean closed; // guarded by this
  private int replacements; // guarded by this

  RemoteWorkers(Path dir) throws IOException {
    this(dir, java.util.Map.of(), io.flotilla.internal.jobs.JobLimits.DEFAULT);
  }

  /**
   * @param dir scratch space
   * @param tokens job-service clients' tokens, with their names
   * @param limits the job service's limits
   */
  RemoteWorkers(
      Path dir, java.util.Map<String, String> tokens, io.flotilla.internal.jobs.JobLimits limits)
      throws IOException {
    this(dir, tokens, limits, CoordinatorServer.Settings.DEFAULT_NO_WORKERS_TIMEOUT);
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
                3,
                Duration.ofSeconds(3),
                null,
                com.typesafe.config.ConfigFactory.empty(),
                tokens,
                limits,
                noWorkersTimeout));
  }

  String address() {
    return "127.0.0.1:" + server.port();
  }

  /**
   * Starts a worker JVM joining this coordinator with one run thread, restarted whenever it exits.
   */
  synchronized Process addWorker() throws IOException {
    List<String> command =
        new ArrayList<>(
            Processes.workerCommand(
                "--join",
                address(),
                "--threads",
                "1",
                "--cache-dir",
                dir.resolve("code-" + workers.size()).toString()));
    ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
    builder.environment().put("FLOTILLA_SECRET", SECRET);
    Process p = builder.start();
    workers.add(p);
    // As a supervisor would: a worker told to exit (a chunk it ran was aborted) is started again.
    var unused = p.onExit().thenRun(this::replace);
    return p;
  }

  /**
   * @return how many workers were started again after they exited
   */
  synchronized int replacements() {
    return replacements;
  }

  private synchronized void replace() {
    if (!closed) {
      replacements++;
      try {
        addWorker();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
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
    closed = true;
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
