package io.flotilla.cli.cluster;

import io.flotilla.internal.cluster.StopSignals;
import io.flotilla.internal.jobs.JobLimits;
import io.flotilla.internal.server.CoordinatorServer;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code flotilla coordinator}: a coordinator server, the seed of a cluster. */
@Command(
    name = "coordinator",
    mixinStandardHelpOptions = true,
    description = {
      "Runs a coordinator, the server that clients and workers connect to.",
      "Clients connect to it (ProcessPool.connect, flotilla demo --connect, the job commands) and workers "
          + "join it (flotilla worker --join) on its gRPC port; it is the seed of the Pekko cluster on its "
          + "cluster port. Listens on 127.0.0.1 unless --bind says otherwise, and then only with a cluster "
          + "secret (--secret-file, FLOTILLA_SECRET or FLOTILLA_SECRET_FILE).",
      "Prints a line starting 'flotilla coordinator ready:' once it serves. SIGTERM or SIGINT stops it "
          + "gracefully: its workers are told it is stopping (and exit 0), so are its clients, and it "
          + "leaves the cluster."
    },
    exitCodeListHeading = "Exit codes:%n",
    exitCodeList = {
      CoordinatorCommand.STOPPED + ":Stopped as asked (SIGTERM, SIGINT).",
      CoordinatorCommand.FAILED
          + ":Its cluster node stopped without being asked (the cluster downed it), or"
          + " an unexpected error.",
      CoordinatorCommand.USAGE
          + ":The command line or a setting is wrong, or a port cannot be bound.",
      "128+N:Ended by another signal N, e.g. 137 by SIGKILL."
    })
public final class CoordinatorCommand implements Callable<Integer> {
  /** Stopped as it was asked to: SIGTERM or SIGINT. */
  static final int STOPPED = 0;

  /**
   * Its cluster node stopped unasked (the cluster downed it), or an unexpected error (picocli's 1).
   */
  static final int FAILED = 1;

  /** A wrong command line or setting, or a port it cannot listen on. */
  static final int USAGE = 2;

  private static final Logger log = LoggerFactory.getLogger(CoordinatorCommand.class);

  @Mixin ClusterOptions cluster;

  @Option(
      names = "--port",
      paramLabel = "PORT",
      description = "gRPC port for clients and workers (env FLOTILLA_PORT; default 7600).")
  Integer port;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description =
          "Where shipped code is kept (env FLOTILLA_DATA_DIR; default ~/.cache/flotilla/coordinator).")
  Path dataDir;

  @Option(
      names = "--max-attempts",
      paramLabel = "N",
      description =
          "Runs of a chunk whose worker dies before its items fail (env FLOTILLA_MAX_ATTEMPTS; default 3).")
  Integer maxAttempts;

  @Option(
      names = "--tokens-file",
      paramLabel = "FILE",
      description =
          "Job-service clients, one per line: NAME TOKEN ('#' starts a comment). Each token sees only its own "
              + "jobs; the cluster secret is a token too (env FLOTILLA_TOKENS_FILE).")
  Path tokensFile;

  @Option(
      names = "--max-message-bytes",
      paramLabel = "N",
      description =
          "Largest job-service request (env FLOTILLA_MAX_MESSAGE_BYTES; default 4194304).")
  Integer maxMessageBytes;

  @Option(
      names = "--max-inputs-in-flight",
      paramLabel = "N",
      description =
          "Inputs of one job waiting or running before its input stream is held (env FLOTILLA_MAX_INPUTS_IN_FLIGHT; default 10000).")
  Integer maxInputsInFlight;

  @Option(
      names = "--max-jobs-per-client",
      paramLabel = "N",
      description = "Running jobs per client (env FLOTILLA_MAX_JOBS_PER_CLIENT; default 16).")
  Integer maxJobsPerClient;

  @Option(
      names = "--max-kept-bytes",
      paramLabel = "N",
      description =
          "Bytes of results a client's jobs may keep before its new jobs are refused (env FLOTILLA_MAX_KEPT_BYTES; default 1073741824).")
  Long maxKeptBytes;

  @Option(
      names = "--job-retention",
      paramLabel = "DURATION",
      description =
          "How long finished jobs' results stay readable, e.g. 15m, 2h (env FLOTILLA_JOB_RETENTION; default 15m).")
  String jobRetention;

  @Option(
      names = "--no-workers-timeout",
      paramLabel = "DURATION",
      description =
          "How long work may wait while no worker is there to run it, e.g. 500ms, 60s, 2m; then it fails, "
              + "and later work waits again. The wait is logged and told to clients at once; 0 waits "
              + "for ever (env FLOTILLA_NO_WORKERS_TIMEOUT; default 60s).")
  String noWorkersTimeout;

  @Option(
      names = "--dashboard",
      paramLabel = "HOST:PORT",
      description =
          "Where to serve the live dashboard page (/), its data (/api/fleet, /api/events) and "
              + "Prometheus metrics (/metrics), or 'off'. Read-only. Beyond loopback the data and "
              + "metrics need 'Authorization: Bearer <token>' with the cluster secret or a client "
              + "token (the page asks for it once), and with --tls-dir the port speaks HTTPS; port 0 "
              + "picks a free port (env FLOTILLA_DASHBOARD; default "
              + DEFAULT_DASHBOARD
              + ").")
  String dashboard;

  static final String DEFAULT_DASHBOARD = "127.0.0.1:8787";

  @Override
  public Integer call() throws Exception {
    // Before anything else: a stop asked for while the server starts is answered once it has.
    CompletableFuture<String> stop = StopSignals.install();
    JobLimits limits;
    Map<String, String> tokens;
    java.time.Duration patience;
    java.net.InetSocketAddress metricsAddress;
    try {
      metricsAddress =
          dashboardAddress(cluster.pick(dashboard, "dashboard", s -> s, DEFAULT_DASHBOARD));
      limits =
          new JobLimits(
              cluster.pick(
                  maxMessageBytes,
                  "max-message-bytes",
                  Integer::parseInt,
                  JobLimits.DEFAULT.maxMessageBytes()),
              cluster.pick(
                  maxInputsInFlight,
                  "max-inputs-in-flight",
                  Integer::parseInt,
                  JobLimits.DEFAULT.maxPendingPerJob()),
              cluster.pick(
                  maxJobsPerClient,
                  "max-jobs-per-client",
                  Integer::parseInt,
                  JobLimits.DEFAULT.maxJobsPerClient()),
              cluster.pick(
                  maxKeptBytes,
                  "max-kept-bytes",
                  Long::parseLong,
                  JobLimits.DEFAULT.maxKeptBytesPerClient()),
              cluster.pick(
                  jobRetention == null ? null : Durations.parse(jobRetention),
                  "job-retention",
                  Durations::parse,
                  JobLimits.DEFAULT.retention()));
      patience =
          cluster.pick(
              noWorkersTimeout == null ? null : patience(noWorkersTimeout),
              "no-workers-timeout",
              CoordinatorCommand::patience,
              CoordinatorServer.Settings.DEFAULT_NO_WORKERS_TIMEOUT);
      Path file = cluster.pick(tokensFile, "tokens-file", Path::of, null);
      tokens = file == null ? Map.of() : TokensFile.read(file);
    } catch (IllegalArgumentException | java.io.IOException e) {
      System.err.println("flotilla coordinator: " + e.getMessage());
      return USAGE;
    }
    CoordinatorServer.Settings settings =
        new CoordinatorServer.Settings(
            cluster.bindHost("127.0.0.1"),
            cluster.pick(port, "port", Integer::parseInt, 7600),
            cluster.clusterPort(7601),
            cluster.advertiseHost(),
            cluster.secret(),
            cluster.pick(
                dataDir,
                "data-dir",
                Path::of,
                Path.of(System.getProperty("user.home"), ".cache", "flotilla", "coordinator")),
            cluster.pick(maxAttempts, "max-attempts", Integer::parseInt, 3),
            cluster.stableAfter(),
            cluster.tls(),
            cluster.pekko(),
            tokens,
            limits,
            patience,
            metricsAddress);
    CoordinatorServer server;
    try {
      server = CoordinatorServer.start(settings);
    } catch (IllegalArgumentException | java.io.IOException e) {
      System.err.println("flotilla coordinator: " + e.getMessage());
      return USAGE;
    }
    // Any other way out of the JVM (SIGHUP, System.exit) still stops the server as gracefully as it
    // can.
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "flotilla-coordinator-stop"));
    System.out.println(
        "flotilla coordinator ready: grpc="
            + settings.bindHost()
            + ":"
            + server.port()
            + " cluster="
            + server.advertisedHost()
            + ":"
            + server.clusterPort()
            + (settings.secret().isEmpty() ? " (no secret: loopback only)" : "")
            + urls(server.dashboardUrl()));
    System.out.flush();
    CompletableFuture.anyOf(stop, server.clusterStopped()).join();
    if (stop.isDone()) {
      log.info("stopping on {}: telling workers and clients, leaving the cluster", stop.join());
      server.close();
      log.info("stopped");
      return STOPPED;
    }
    // Nobody asked: the cluster downed this node, and a coordinator outside its cluster cannot go
    // on.
    log.error("its cluster node stopped without being asked to (the cluster downed it); exiting");
    server.closeAfterFailure();
    return FAILED;
  }

  /**
   * @param text HOST:PORT, or "off"
   * @return the address, unresolved names resolved, or null for off
   * @throws IllegalArgumentException if it is neither
   */
  static java.net.InetSocketAddress dashboardAddress(String text) {
    if (text.trim().equalsIgnoreCase("off")) {
      return null;
    }
    return io.flotilla.internal.dashboard.DashboardAddress.parse(
        text, "--dashboard takes HOST:PORT (port 0 for any free one) or 'off'");
  }

  /** The ready line's last fields: where the dashboard is, and where Prometheus scrapes. */
  private static String urls(String dashboard) {
    if (dashboard == null) {
      return "";
    }
    return " dashboard=" + dashboard + " metrics=" + dashboard + "metrics";
  }

  /** A duration, where a bare 0 (no unit needed) means waiting for ever. */
  static java.time.Duration patience(String text) {
    java.time.Duration d =
        text.trim().equals("0") ? java.time.Duration.ZERO : Durations.parse(text);
    if (d.isNegative()) {
      throw new IllegalArgumentException("--no-workers-timeout must not be negative: " + text);
    }
    return d;
  }
}
