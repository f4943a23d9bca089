package io.flotilla.cli.cluster;

import io.flotilla.server.CoordinatorServer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code flotilla coordinator}: a coordinator server, the seed of a cluster. */
@Command(
    name = "coordinator",
    mixinStandardHelpOptions = true,
    description = {
      "Runs a coordinator: clients connect to it (ProcessPool.connect, flotilla demo --connect) and workers",
      "join it (flotilla worker --join) on its gRPC port; it is the seed of the Pekko cluster on its",
      "cluster port. Listens on 127.0.0.1 unless --bind says otherwise, and then only with a cluster secret.",
      "Prints a line starting 'flotilla coordinator ready:' once it serves; stops gracefully on SIGTERM."
    })
public final class CoordinatorCommand implements Callable<Integer> {
  @Mixin ClusterOptions cluster;

  @Option(names = "--port", paramLabel = "PORT", description = "gRPC port for clients and workers (env FLOTILLA_PORT; default 7600).")
  Integer port;

  @Option(names = "--data-dir", paramLabel = "DIR", description = "Where shipped code is kept (env FLOTILLA_DATA_DIR; default ~/.cache/flotilla/coordinator).")
  Path dataDir;

  @Option(names = "--max-attempts", paramLabel = "N", description = "Runs of a chunk whose worker dies before its items fail (env FLOTILLA_MAX_ATTEMPTS; default 3).")
  Integer maxAttempts;

  @Override
  public Integer call() throws Exception {
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
            cluster.pekko());
    CoordinatorServer server;
    try {
      server = CoordinatorServer.start(settings);
    } catch (IllegalArgumentException | java.io.IOException e) {
      System.err.println("flotilla coordinator: " + e.getMessage());
      return 2;
    }
    AtomicBoolean stopping = new AtomicBoolean();
    Thread onTerm =
        new Thread(
            () -> {
              stopping.set(true);
              server.close();
            },
            "flotilla-coordinator-stop");
    Runtime.getRuntime().addShutdownHook(onTerm);
    System.out.println(
        "flotilla coordinator ready: grpc="
            + settings.bindHost()
            + ":"
            + server.port()
            + " cluster="
            + server.advertisedHost()
            + ":"
            + server.clusterPort()
            + (settings.secret().isEmpty() ? " (no secret: loopback only)" : ""));
    System.out.flush();
    server.clusterStopped().join();
    // The cluster node stopped without a SIGTERM: the coordinator was downed, and cannot go on.
    if (!stopping.get()) {
      System.err.println("flotilla coordinator: its cluster node stopped; exiting");
      return 1;
    }
    return 0;
  }
}
