package io.flotilla.cli.jobs;

import io.flotilla.internal.jobs.ClientTokens;
import io.flotilla.internal.link.CoordinatorChannel;
import io.flotilla.proto.JobServiceGrpc;
import io.grpc.CallCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Option;

/**
 * How the job commands reach a coordinator: its address, the token (sent as gRPC call credentials),
 * TLS, and the deadline every call gets. Streams that may rightly last long (results of a long job)
 * are given the deadline too, and reopened from where they stopped when it passes.
 */
final class JobConnection implements AutoCloseable {
  @Option(
      names = "--connect",
      paramLabel = "HOST:PORT",
      description = "The coordinator (env FLOTILLA_COORDINATOR; default 127.0.0.1:7600).")
  String connect;

  @Option(
      names = "--token-file",
      paramLabel = "FILE",
      description =
          "A file holding this client's token (env FLOTILLA_TOKEN, FLOTILLA_TOKEN_FILE; the cluster secret, from FLOTILLA_SECRET or FLOTILLA_SECRET_FILE, is also a token).")
  Path tokenFile;

  @Option(
      names = "--tls-dir",
      paramLabel = "DIR",
      description =
          "ca.crt, tls.crt and tls.key for a coordinator that speaks TLS (env FLOTILLA_TLS_DIR).")
  Path tlsDir;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      description = "Deadline of each call to the coordinator (default 30s).")
  String timeout;

  private ManagedChannel channel;
  private CallCredentials credentials;

  String address() {
    if (connect != null) {
      return connect;
    }
    String env = System.getenv("FLOTILLA_COORDINATOR");
    return env == null || env.isBlank() ? "127.0.0.1:7600" : env.trim();
  }

  Duration deadline() {
    return timeout == null
        ? Duration.ofSeconds(30)
        : io.flotilla.cli.cluster.Durations.parse(timeout);
  }

  private String token() {
    return token(tokenFile);
  }

  /**
   * The token a client command presents, wherever it was given.
   *
   * @param tokenFile the command's --token-file, or null
   * @return from the file, FLOTILLA_TOKEN, FLOTILLA_TOKEN_FILE, FLOTILLA_SECRET or
   *     FLOTILLA_SECRET_FILE, the first given; empty if none is
   * @throws java.io.UncheckedIOException naming the file, if a named file cannot be read
   */
  static String token(Path tokenFile) {
    if (tokenFile != null) {
      return CoordinatorChannel.readSecret(tokenFile);
    }
    String token = System.getenv("FLOTILLA_TOKEN");
    if (token != null && !token.isBlank()) {
      return token.trim();
    }
    String file = System.getenv("FLOTILLA_TOKEN_FILE");
    if (file != null && !file.isBlank()) {
      return CoordinatorChannel.readSecret(Path.of(file));
    }
    String secret = CoordinatorChannel.secretFromEnvironment();
    return secret == null ? "" : secret;
  }

  /**
   * @return a stub with this connection's token; every call still needs its deadline
   */
  JobServiceGrpc.JobServiceBlockingStub blocking() {
    return JobServiceGrpc.newBlockingStub(channel()).withCallCredentials(credentials());
  }

  /**
   * @return an asynchronous stub with this connection's token
   */
  JobServiceGrpc.JobServiceStub async() {
    return JobServiceGrpc.newStub(channel()).withCallCredentials(credentials());
  }

  /**
   * @return the blocking stub with the per-call deadline set
   */
  JobServiceGrpc.JobServiceBlockingStub call() {
    return blocking().withDeadlineAfter(deadline().toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Read once: the token file is not read again at every call. */
  private synchronized CallCredentials credentials() {
    if (credentials == null) {
      credentials = bearer(token());
    }
    return credentials;
  }

  private static CallCredentials bearer(String token) {
    return new CallCredentials() {
      @Override
      public void applyRequestMetadata(
          RequestInfo info, Executor executor, MetadataApplier applier) {
        Metadata headers = new Metadata();
        if (!token.isEmpty()) {
          headers.put(ClientTokens.AUTHORIZATION, "Bearer " + token);
        }
        applier.apply(headers);
      }
    };
  }

  private synchronized ManagedChannel channel() {
    if (channel == null) {
      CoordinatorChannel.Address address = CoordinatorChannel.Address.parse(address());
      // The token travels as call credentials, not as the cluster secret's header.
      channel =
          CoordinatorChannel.builder(address.host(), address.port(), tlsDir(tlsDir), "")
              // A coordinator that vanishes mid-stream is noticed, even when no result is due.
              .keepAliveTime(30, TimeUnit.SECONDS)
              .keepAliveTimeout(10, TimeUnit.SECONDS)
              .keepAliveWithoutCalls(false)
              .maxInboundMessageSize(64 << 20)
              .build();
    }
    return channel;
  }

  /**
   * @param tlsDir the command's --tls-dir, or null
   * @return it, else FLOTILLA_TLS_DIR, else null for plain text
   */
  static Path tlsDir(Path tlsDir) {
    if (tlsDir != null) {
      return tlsDir;
    }
    String v = System.getenv("FLOTILLA_TLS_DIR");
    return v == null || v.isBlank() ? null : Path.of(v);
  }

  @Override
  public synchronized void close() {
    if (channel != null) {
      channel.shutdownNow();
    }
  }
}
