package io.flotilla.cli.jobs;

import static org.awaitility.Awaitility.await;

import io.flotilla.cli.cluster.ChildJvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real cluster for the job commands' tests: {@code flotilla coordinator} on loopback with two
 * clients' tokens, and {@code flotilla worker}s joined to it, each a JVM of its own, as a user
 * starts them.
 */
public final class JobCluster implements AutoCloseable {
  /** Tokens of two clients, who must not see each other's jobs. */
  public static final String ALICE = "alice-token-0123456789abcdef";

  public static final String BOB = "bob-token-0123456789abcdef";

  private final ChildJvm coordinator;
  private final List<ChildJvm> workers = new ArrayList<>();
  private final int port;

  /**
   * @param dir scratch space
   * @param workers how many workers to start
   * @param threads run threads per worker
   * @param extra more coordinator options
   */
  public JobCluster(Path dir, int workers, int threads, String... extra) throws IOException {
    Path tokens = dir.resolve("tokens");
    Files.writeString(tokens, "# test clients\nalice " + ALICE + "\nbob " + BOB + "\n");
    List<String> args =
        new ArrayList<>(
            List.of(
                "coordinator",
                "--port",
                "0",
                "--cluster-port",
                "0",
                "--dashboard",
                "127.0.0.1:0",
                "--tokens-file",
                tokens.toString(),
                "--data-dir",
                dir.resolve("data").toString()));
    args.addAll(List.of(extra));
    coordinator = new ChildJvm("coordinator", null, Map.of(), args.toArray(String[]::new));
    Pattern ready = Pattern.compile("flotilla coordinator ready: grpc=[^:]+:(\\d+)");
    await("the coordinator's ready line")
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                coordinator.line("flotilla coordinator ready") != null
                    || !coordinator.process().isAlive());
    Matcher m = ready.matcher(String.valueOf(coordinator.line("flotilla coordinator ready")));
    if (!m.find()) {
      throw new IllegalStateException("the coordinator did not start: " + coordinator.output());
    }
    port = Integer.parseInt(m.group(1));
    for (int i = 0; i < workers; i++) {
      addWorker(dir.resolve("cache-" + i), threads);
    }
    await("workers ready")
        .atMost(Duration.ofSeconds(90))
        .until(() -> coordinator.count("ready with") >= workers);
  }

  /** Starts one more worker joined to the coordinator. */
  public ChildJvm addWorker(Path cache, int threads) throws IOException {
    ChildJvm w =
        new ChildJvm(
            "worker-" + workers.size(),
            null,
            Map.of(),
            "worker",
            "--join",
            address(),
            "--threads",
            String.valueOf(threads),
            "--cache-dir",
            cache.toString());
    workers.add(w);
    return w;
  }

  /**
   * @return host:port of the coordinator's gRPC port
   */
  public String address() {
    return "127.0.0.1:" + port;
  }

  public ChildJvm coordinator() {
    return coordinator;
  }

  @Override
  public void close() {
    workers.forEach(ChildJvm::close);
    coordinator.close();
  }
}
