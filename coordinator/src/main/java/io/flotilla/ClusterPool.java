package io.flotilla;

import io.flotilla.internal.code.Bundle;
import io.flotilla.internal.codec.Codec;
import io.flotilla.internal.link.CoordinatorChannel;
import io.flotilla.internal.remote.ClientLinkBackend;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link PoolExecutor} whose tasks run on the workers of a coordinator server, on this machine or
 * others: {@code ProcessPool.connect("coordinator-host:7600")} in place of {@code
 * ProcessPool.local(4)}, and nothing else changes.
 *
 * <pre>{@code
 * try (PoolExecutor pool = ProcessPool.connect("coordinator-host:7600")) {
 *   for (boolean isPrime : pool.map(Primes::isPrime, numbers)) { ... }
 * }
 * }</pre>
 *
 * <p><b>Code.</b> At connect, the jars and class directories on this JVM's class path are offered
 * to the coordinator by content (SHA-256); it stores the ones it lacks, and each worker fetches
 * what it lacks on first use, caching it on disk. Each distinct set of jars runs in a class loader
 * of its own on the workers, so two clients with different versions of a class never see each
 * other's. Nothing needs installing on the workers beyond Flotilla itself.
 *
 * <p><b>Semantics.</b> As a local pool's: results in order or as completed, lazily, with a bounded
 * window of chunks in flight, so a slow reader holds back the reading of the input; a worker lost
 * mid-chunk (killed, or downed by the cluster) has its chunks run again elsewhere. Workers may join
 * or leave at any time; {@link #parallelism()} follows them. If the coordinator goes away,
 * everything outstanding fails with {@link BrokenPoolException} naming it, and the pool is broken.
 *
 * <p><b>Security.</b> Every call carries the cluster secret ({@code FLOTILLA_SECRET}, or the file
 * named by {@code FLOTILLA_SECRET_FILE}, unless {@link Builder#secret(String)} is given). Whoever
 * holds it can run code on every worker.
 */
public final class ClusterPool extends AbstractPool {
  private final ClientLinkBackend link;
  private final ManagedChannel channel;
  private final ExecutorService completions;
  private final String address;

  private ClusterPool(
      ClientLinkBackend link, ManagedChannel channel, ExecutorService completions, String address) {
    super(link, completions);
    this.link = link;
    this.channel = channel;
    this.completions = completions;
    this.address = address;
  }

  /**
   * @param address the coordinator's {@code host:port} (port 7600 if omitted)
   * @return a pool on its workers
   * @throws BrokenPoolException naming the reason if it cannot be reached or refuses this client
   */
  public static ClusterPool connect(String address) {
    return builder(address).build();
  }

  /**
   * @param address the coordinator's {@code host:port}
   * @return a builder with options
   */
  public static Builder builder(String address) {
    return new Builder(address);
  }

  void broke(BrokenPoolException cause) {
    markBroken(cause);
  }

  @Override
  CompletableFuture<Void> stopBackend() {
    link.close();
    channel.shutdown();
    return CompletableFuture.runAsync(
        () -> {
          try {
            if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
              channel.shutdownNow();
            }
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          completions.shutdown();
        },
        command -> {
          Thread t = new Thread(command, "flotilla-cluster-pool-stop");
          t.setDaemon(true);
          t.start();
        });
  }

  /**
   * @return worker JVMs in the cluster now
   */
  @Override
  public int workers() {
    return link.workers();
  }

  /**
   * @return worker threads in the cluster now (at least 1)
   */
  @Override
  public int parallelism() {
    return link.parallelism();
  }

  @Override
  public String toString() {
    return "ClusterPool["
        + address
        + ", workers="
        + workers()
        + (isShutdown() ? ", shut down" : "")
        + "]";
  }

  /** Options of a connection. Not thread-safe. */
  public static final class Builder {
    private final CoordinatorChannel.Address address;
    private String secret;
    private String classPath = System.getProperty("java.class.path", "");
    private ClassLoader loader = Thread.currentThread().getContextClassLoader();
    private Duration connectTimeout = Duration.ofSeconds(30);
    private Path tlsDir = envPath("FLOTILLA_TLS_DIR");

    private Builder(String address) {
      this.address = CoordinatorChannel.Address.parse(address);
    }

    /**
     * @param secret the cluster secret (default: {@code FLOTILLA_SECRET}, or the file named by
     *     {@code FLOTILLA_SECRET_FILE}, or none)
     * @return this
     */
    public Builder secret(String secret) {
      this.secret = secret;
      return this;
    }

    /**
     * The code to ship, when it is not this JVM's class path: for instance a plugin loaded in a
     * class loader of its own.
     *
     * @param classPath jars and class directories, separated by the platform's path separator
     * @param loader the loader that defines those classes here, to decode results with
     * @return this
     */
    public Builder code(String classPath, ClassLoader loader) {
      this.classPath = classPath;
      this.loader = loader;
      return this;
    }

    /**
     * Speaks TLS to the coordinator (default: when {@code FLOTILLA_TLS_DIR} names a directory).
     *
     * @param dir a directory with the cluster's {@code ca.crt}, and this client's {@code tls.crt}
     *     and {@code tls.key} if it has a certificate of its own
     * @return this
     */
    public Builder tls(Path dir) {
      this.tlsDir = dir;
      return this;
    }

    /**
     * @param timeout how long to wait for the coordinator to answer (default 30 s)
     * @return this
     */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = timeout;
      return this;
    }

    /**
     * Ships the code and opens the session.
     *
     * @return the pool
     * @throws BrokenPoolException naming the reason if the coordinator cannot be reached or refuses
     */
    public ClusterPool build() {
      String address = this.address.toString();
      String key =
          secret != null
              ? secret
              : Objects.requireNonNullElse(CoordinatorChannel.secretFromEnvironment(), "");
      ManagedChannel channel =
          CoordinatorChannel.builder(this.address.host(), this.address.port(), tlsDir, key)
              .maxInboundMessageSize(256 << 20)
              // A coordinator that vanishes without a word (its machine cut off) is noticed within
              // half a minute, and everything outstanding fails with the reason instead of hanging.
              .keepAliveTime(20, TimeUnit.SECONDS)
              .keepAliveTimeout(10, TimeUnit.SECONDS)
              .build();
      try {
        List<String> bundles;
        try {
          bundles = ship(channel);
        } catch (io.grpc.StatusRuntimeException e) {
          throw new BrokenPoolException(describe(address, e.getStatus()), e);
        }
        AtomicInteger callbackThreads = new AtomicInteger();
        ExecutorService completions =
            Executors.newCachedThreadPool(
                r -> {
                  Thread t =
                      new Thread(r, "flotilla-callback-" + callbackThreads.incrementAndGet());
                  t.setDaemon(true);
                  return t;
                });
        ClusterPool[] pool = new ClusterPool[1];
        ClientLinkBackend link =
            new ClientLinkBackend(
                channel,
                address,
                new Codec(loader),
                loader,
                bundles,
                connectTimeout,
                broken -> {
                  if (pool[0] != null) {
                    pool[0].broke(broken);
                  }
                });
        pool[0] = new ClusterPool(link, channel, completions, address);
        return pool[0];
      } catch (RuntimeException e) {
        channel.shutdownNow();
        throw e;
      }
    }

    private List<String> ship(ManagedChannel channel) {
      List<Bundle> bundles = Bundle.ofClassPath(classPath);
      io.flotilla.internal.remote.RemoteCode.ship(channel, bundles, connectTimeout);
      return bundles.stream().map(Bundle::sha256).toList();
    }

    private static String describe(String address, io.grpc.Status status) {
      if (CoordinatorChannel.isTlsRefusal(status)) {
        // Reachable, and refused: the description says which side's TLS and why.
        return status.getDescription();
      }
      String detail = status.getDescription() == null ? "" : ": " + status.getDescription();
      return switch (status.getCode()) {
        case UNAUTHENTICATED -> "the coordinator at " + address + " refused this client" + detail;
        case UNAVAILABLE, DEADLINE_EXCEEDED ->
            "cannot reach a coordinator at " + address + " (" + status.getCode() + detail + ")";
        default -> "the coordinator at " + address + " failed: " + status.getCode() + detail;
      };
    }

    private static Path envPath(String name) {
      String value = System.getenv(name);
      return value == null || value.isBlank() ? null : Path.of(value);
    }
  }
}
