package io.flotilla.cli.cluster;

import io.flotilla.worker.JoiningWorker;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code flotilla worker --join HOST:PORT}: a worker on this machine for a coordinator anywhere. */
@Command(
    name = "worker",
    mixinStandardHelpOptions = true,
    description = {
      "Joins a coordinator as a worker and runs its work.",
      "Joins the coordinator at HOST:PORT (its gRPC port) and runs its work until the coordinator goes "
          + "away or the cluster downs this worker; then exits non-zero, for its supervisor to start it "
          + "again. Code the clients ship is fetched on first use and cached in --cache-dir.",
      "Exit codes: 64 refused (wrong secret, other release), 66 coordinator lost or downed."
    })
public final class WorkerCommand implements Callable<Integer> {
  @Mixin ClusterOptions cluster;

  @Option(names = "--join", paramLabel = "HOST:PORT", description = "The coordinator's gRPC address (env FLOTILLA_JOIN).")
  String join;

  @Option(names = "--threads", paramLabel = "N", description = "Run threads (env FLOTILLA_THREADS; default: this machine's cores).")
  Integer threads;

  @Option(names = "--cache-dir", paramLabel = "DIR", description = "Where shipped code is kept (env FLOTILLA_CACHE_DIR; default ~/.cache/flotilla/code).")
  Path cacheDir;

  @Override
  public Integer call() {
    String address = cluster.pick(join, "join", s -> s, null);
    if (address == null || address.lastIndexOf(':') <= 0) {
      System.err.println("flotilla worker: --join HOST:PORT is required (or FLOTILLA_JOIN)");
      return 2;
    }
    int n = cluster.pick(threads, "threads", Integer::parseInt, Runtime.getRuntime().availableProcessors());
    if (n < 1) {
      System.err.println("flotilla worker: --threads must be at least 1, was " + n);
      return 2;
    }
    int colon = address.lastIndexOf(':');
    return JoiningWorker.run(
        new JoiningWorker.Options(
            address.substring(0, colon),
            Integer.parseInt(address.substring(colon + 1)),
            n,
            cluster.secret(),
            cluster.bindHost(null),
            cluster.clusterPort(0),
            cluster.advertiseHost(),
            cluster.pick(
                cacheDir, "cache-dir", Path::of, Path.of(System.getProperty("user.home"), ".cache", "flotilla", "code")),
            cluster.stableAfter(),
            cluster.tls(),
            cluster.pekko()));
  }
}
