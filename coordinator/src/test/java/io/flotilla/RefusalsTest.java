package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import io.flotilla.internal.link.SecretHeader;
import io.flotilla.internal.server.CoordinatorServer;
import io.flotilla.proto.JoinRequest;
import io.flotilla.proto.MembershipGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Who a coordinator server refuses, and that both ends say what was refused and why: the refused
 * end in its error (a client's {@link BrokenPoolException}, a worker's exit code and line), the
 * coordinator in a WARN line naming the peer's address and never the secret. The refusals
 * themselves are tested in {@link CoordinatorServerTest} and {@code HandshakeTest}; here, their
 * explanations. Certificates are real ones from openssl, workers real JVMs joining as {@code
 * flotilla worker} does.
 */
@FlotillaTest
class RefusalsTest {
  private static final String SECRET = "refusals-secret";

  @TempDir Path dir;
  private Path cluster;
  private Path foreign;

  @BeforeEach
  void certificates() throws Exception {
    cluster = TestCertificates.make(dir.resolve("cluster"));
    foreign = TestCertificates.make(dir.resolve("foreign"));
  }

  private CoordinatorServer start(Path tls) throws Exception {
    return CoordinatorServer.start(
        new CoordinatorServer.Settings(
            "127.0.0.1",
            0,
            0,
            null,
            SECRET,
            dir.resolve("data"),
            3,
            Duration.ofSeconds(3),
            tls,
            com.typesafe.config.ConfigFactory.empty(),
            java.util.Map.of(),
            io.flotilla.internal.jobs.JobLimits.DEFAULT,
            CoordinatorServer.Settings.DEFAULT_NO_WORKERS_TIMEOUT,
            null));
  }

  /** A worker JVM joining as {@code flotilla worker} does, with its output kept. */
  private Process worker(CoordinatorServer server, Path tls) throws Exception {
    List<String> command =
        new ArrayList<>(
            Processes.workerCommand(
                "--join",
                "127.0.0.1:" + server.port(),
                "--cache-dir",
                dir.resolve("code").toString()));
    if (tls != null) {
      command.addAll(List.of("--tls-dir", tls.toString()));
    }
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("FLOTILLA_SECRET", SECRET);
    return builder.start();
  }

  /**
   * Well under the minute a worker waits for a coordinator that does not answer: a refusal is
   * final, and a worker that waits it out before giving up was not told.
   */
  private static final Duration AT_ONCE = TestTime.scaled(Duration.ofSeconds(30));

  private static String exits(Process worker, int code) throws Exception {
    String output =
        new String(worker.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(worker.waitFor(AT_ONCE.toSeconds(), TimeUnit.SECONDS)).as(output).isTrue();
    assertThat(worker.exitValue()).as(output).isEqualTo(code);
    return output;
  }

  private static Process within(Process worker, Duration limit) {
    // readAllBytes above returns when the process closes its output, which it does as it exits:
    // bound it.
    worker
        .onExit()
        .orTimeout(limit.toSeconds(), TimeUnit.SECONDS)
        .exceptionally(
            e -> {
              worker.destroyForcibly();
              return worker;
            });
    return worker;
  }

  @Test
  void aPlainTextClientOfATlsCoordinatorIsToldItRequiresTls() throws Exception {
    try (CoordinatorServer server = start(cluster);
        CapturedLog log = new CapturedLog()) {
      Throwable refused =
          catchThrowable(
              () -> ClusterPool.builder("127.0.0.1:" + server.port()).secret(SECRET).build());
      assertThat(refused)
          .isInstanceOf(BrokenPoolException.class)
          .hasMessageContaining("127.0.0.1:" + server.port())
          .hasMessageContaining("requires TLS")
          .hasMessageNotContaining("cannot reach");
      await("the coordinator's account of it")
          .atMost(TestTime.LONG)
          .until(() -> !log.warnings("127.0.0.1", "plain text").isEmpty());
    }
  }

  @Test
  void aTlsClientOfAPlainTextCoordinatorIsToldTheHandshakeFailed() throws Exception {
    try (CoordinatorServer server = start(null);
        CapturedLog log = new CapturedLog()) {
      Throwable refused =
          catchThrowable(
              () ->
                  ClusterPool.builder("127.0.0.1:" + server.port())
                      .secret(SECRET)
                      .tls(cluster)
                      .build());
      assertThat(refused)
          .isInstanceOf(BrokenPoolException.class)
          .hasMessageContaining("TLS")
          .hasMessageContaining("does not speak TLS")
          .hasMessageNotContaining("cannot reach");
      await("the coordinator's account of it")
          .atMost(TestTime.LONG)
          .until(() -> !log.warnings("127.0.0.1", "TLS").isEmpty());
    }
  }

  @Test
  void aWorkerWhoseCertificateTheCoordinatorDoesNotTrustIsRefusedAtOnce() throws Exception {
    Path untrusted = TestCertificates.mixed(dir.resolve("untrusted"), cluster, foreign);
    try (CoordinatorServer server = start(cluster);
        CapturedLog log = new CapturedLog()) {
      // Refused in the TLS handshake if the worker shows its certificate, or at Join if it shows
      // none
      // (a client need not, and may not show one its peer's authority did not sign).
      String output = exits(within(worker(server, untrusted), AT_ONCE), 64);
      assertThat(output).contains("refused").contains("certificate");
      await("the coordinator's account of it")
          .atMost(TestTime.LONG)
          .until(() -> !log.warnings("127.0.0.1", "certificate").isEmpty());
    }
  }

  @Test
  void aWorkerThatDoesNotTrustTheCoordinatorIsRefusedAtOnceWithTheCause() throws Exception {
    try (CoordinatorServer server = start(cluster);
        CapturedLog log = new CapturedLog()) {
      String output = exits(within(worker(server, foreign), AT_ONCE), 64);
      assertThat(output).contains("TLS").contains("certificate").doesNotContain("cannot join");
      await("the coordinator's account of it")
          .atMost(TestTime.LONG)
          .until(() -> !log.warnings("127.0.0.1", "certificate").isEmpty());
    }
  }

  @Test
  void aPlainTextWorkerOfATlsCoordinatorIsRefusedAtOnce() throws Exception {
    try (CoordinatorServer server = start(cluster)) {
      String output = exits(within(worker(server, null), AT_ONCE), 64);
      assertThat(output).contains("requires TLS");
    }
  }

  @Test
  void aWrongSecretIsLoggedWithThePeerAndNeverTheSecret() throws Exception {
    try (CoordinatorServer server = start(null);
        CapturedLog log = new CapturedLog()) {
      String guess = "guessed-" + SECRET;
      assertThat(
              catchThrowable(
                  () -> ClusterPool.builder("127.0.0.1:" + server.port()).secret(guess).build()))
          .isInstanceOf(BrokenPoolException.class)
          .hasMessageContaining("wrong cluster secret");
      await("the coordinator's account of it")
          .atMost(TestTime.LONG)
          .until(() -> !log.warnings("127.0.0.1", "wrong cluster secret").isEmpty());
      assertThat(log.warnings()).noneMatch(l -> l.contains(guess) || l.contains(SECRET));
    }
  }

  @Test
  void aWorkerOfAnotherReleaseIsLoggedWithThePeer() throws Exception {
    try (CoordinatorServer server = start(null);
        CapturedLog log = new CapturedLog()) {
      ManagedChannel channel =
          NettyChannelBuilder.forAddress("127.0.0.1", server.port())
              .usePlaintext()
              .intercept(SecretHeader.attach(SECRET))
              .build();
      try {
        assertThatThrownBy(
                () ->
                    MembershipGrpc.newBlockingStub(channel)
                        .join(
                            JoinRequest.newBuilder()
                                .setProtocolVersion(1)
                                .setHost("elsewhere")
                                .build()))
            .isInstanceOf(io.grpc.StatusRuntimeException.class);
      } finally {
        channel.shutdownNow();
      }
      assertThat(log.warnings("127.0.0.1", "elsewhere", "protocol version 1")).isNotEmpty();
    }
  }
}
