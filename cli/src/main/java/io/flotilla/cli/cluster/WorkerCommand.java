package io.flotilla.cli.cluster;

import io.flotilla.internal.worker.JoiningWorker;
import io.flotilla.internal.worker.WorkerExit;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code flotilla worker --join HOST:PORT}: a worker on this machine for a coordinator anywhere.
 */
@Command(
    name = "worker",
    mixinStandardHelpOptions = true,
    description = {
      "Joins a coordinator as a worker and runs its work.",
      "Joins the coordinator at HOST:PORT (its gRPC port) and runs its work in a task JVM of its own, which "
          + "it starts again whenever it dies (a crash, System.exit, out of memory, a cancelled task), at "
          + "once or, when it keeps dying, after a growing pause; the worker stays in the cluster meanwhile. "
          + "It runs until it is asked to stop (SIGTERM, SIGINT: it leaves the cluster, and its tasks run "
          + "elsewhere), its coordinator stops, or the cluster downs it. It exits non-zero only when "
          + "something went wrong, for its supervisor to start it again; killed, it leaves no process "
          + "behind. Code the clients ship is fetched on first use and cached in --cache-dir."
    },
    exitCodeListHeading = "Exit codes:%n",
    exitCodeList = {
      WorkerExit.STOPPED + ":Stopped as asked (SIGTERM, SIGINT), or its coordinator stopped.",
      WorkerExit.FAILED + ":An unexpected error.",
      WorkerExit.USAGE + ":The command line or a setting is wrong.",
      WorkerExit.REFUSED
          + ":Refused: a wrong or missing secret, a certificate the other side does not"
          + " trust, TLS on one side only, or another release. Starting it again will not help until"
          + " that is fixed.",
      WorkerExit.COORDINATOR_LOST
          + ":Lost its coordinator: it cannot be reached, went away without a word,"
          + " or did not admit this worker to its cluster; or the cluster downed this worker. Start it"
          + " again.",
      "128+N:Ended by another signal N, e.g. 137 by SIGKILL."
    })
public final class WorkerCommand implements Callable<Integer> {
  @Mixin ClusterOptions cluster;

  @Option(
      names = "--join",
      paramLabel = "HOST:PORT",
      description = "The coordinator's gRPC address (env FLOTILLA_JOIN).")
  String join;

  @Option(
      names = "--threads",
      paramLabel = "N",
      description = "Run threads (env FLOTILLA_THREADS; default: this machine's cores).")
  Integer threads;

  @Option(
      names = "--jvm-options",
      paramLabel = "OPTIONS",
      description =
          "JVM options for the task JVM, separated by spaces, such as \"-Xmx4g -XX:+UseG1GC\" (env"
              + " FLOTILLA_JVM_OPTIONS).")
  String jvmOptions;

  /** For programs that start worker hosts of their own (flotilla chaos): not for people. */
  @Option(names = "--exit-with-parent", hidden = true)
  boolean exitWithParent;

  @Option(
      names = "--cache-dir",
      paramLabel = "DIR",
      description =
          "Where shipped code is kept (env FLOTILLA_CACHE_DIR; default ~/.cache/flotilla/code).")
  Path cacheDir;

  @Override
  public Integer call() {
    String address = cluster.pick(join, "join", s -> s, null);
    if (address == null || address.lastIndexOf(':') <= 0) {
      System.err.println("flotilla worker: --join HOST:PORT is required (or FLOTILLA_JOIN)");
      return WorkerExit.USAGE;
    }
    int n =
        cluster.pick(
            threads, "threads", Integer::parseInt, Runtime.getRuntime().availableProcessors());
    if (n < 1) {
      System.err.println("flotilla worker: --threads must be at least 1, was " + n);
      return WorkerExit.USAGE;
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
                cacheDir,
                "cache-dir",
                Path::of,
                Path.of(System.getProperty("user.home"), ".cache", "flotilla", "code")),
            cluster.stableAfter(),
            cluster.tls(),
            cluster.pekko(),
            splitOptions(cluster.pick(jvmOptions, "jvm-options", t -> t, "")),
            exitWithParent));
  }

  private static java.util.List<String> splitOptions(String text) {
    return text.isBlank() ? java.util.List.of() : java.util.List.of(text.trim().split("\\s+"));
  }
}
