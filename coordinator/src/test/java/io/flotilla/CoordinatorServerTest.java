package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import io.flotilla.internal.codec.Codec;
import io.flotilla.internal.link.SecretHeader;
import io.flotilla.internal.server.CoordinatorServer;
import io.flotilla.proto.JoinRequest;
import io.flotilla.proto.MembershipGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A coordinator server's doors: who it lets in, who it refuses, and what each is told. */
@FlotillaTest
class CoordinatorServerTest {
  @TempDir Path dir;

  private CoordinatorServer.Settings settings(String bind, String secret, Path tls) {
    return settings(bind, secret, tls, null);
  }

  private CoordinatorServer.Settings settings(
      String bind, String secret, Path tls, java.net.InetSocketAddress dashboard) {
    return new CoordinatorServer.Settings(
        bind,
        0,
        0,
        null,
        secret,
        dir.resolve("data"),
        3,
        Duration.ofSeconds(3),
        tls,
        com.typesafe.config.ConfigFactory.empty(),
        java.util.Map.of(),
        io.flotilla.internal.jobs.JobLimits.DEFAULT,
        CoordinatorServer.Settings.DEFAULT_NO_WORKERS_TIMEOUT,
        dashboard);
  }

  @Test
  void itWillNotListenBeyondLoopbackWithoutASecret() {
    assertThatThrownBy(() -> CoordinatorServer.start(settings("0.0.0.0", "", null)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("refusing to listen on 0.0.0.0 without a cluster secret");
  }

  @Test
  void aWorkerOfAnotherReleaseIsRefusedAtJoinWithTheReason() throws Exception {
    try (CoordinatorServer server = CoordinatorServer.start(settings("127.0.0.1", "s", null))) {
      ManagedChannel channel =
          NettyChannelBuilder.forAddress("127.0.0.1", server.port())
              .usePlaintext()
              .intercept(SecretHeader.attach("s"))
              .build();
      try {
        MembershipGrpc.MembershipBlockingStub stub = MembershipGrpc.newBlockingStub(channel);
        Codec codec = new Codec(getClass().getClassLoader());
        StatusRuntimeException otherSerializer =
            (StatusRuntimeException)
                catchThrowable(
                    () ->
                        stub.join(
                            JoinRequest.newBuilder()
                                .setProtocolVersion(Codec.PROTOCOL_VERSION)
                                .setCodecFingerprint("0123456789ab")
                                .setHost("elsewhere")
                                .build()));
        assertThat(otherSerializer.getStatus().getCode())
            .isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(otherSerializer.getStatus().getDescription())
            .contains(
                "serializer fingerprint 0123456789ab differs from this coordinator's "
                    + codec.fingerprint());
        StatusRuntimeException otherProtocol =
            (StatusRuntimeException)
                catchThrowable(
                    () ->
                        stub.join(
                            JoinRequest.newBuilder()
                                .setProtocolVersion(Codec.PROTOCOL_VERSION + 1)
                                .setCodecFingerprint(codec.fingerprint())
                                .build()));
        assertThat(otherProtocol.getStatus().getDescription())
            .contains("worker speaks protocol version " + (Codec.PROTOCOL_VERSION + 1));
        assertThat(
                stub.join(
                        JoinRequest.newBuilder()
                            .setProtocolVersion(Codec.PROTOCOL_VERSION)
                            .setCodecFingerprint(codec.fingerprint())
                            .build())
                    .getSeedPort())
            .isEqualTo(server.clusterPort());
      } finally {
        channel.shutdownNow();
      }
    }
  }

  @Test
  void withCertificatesWorkersAndClientsSpeakTlsAndAPlaintextClientGetsNothing() throws Exception {
    Path tls = TestCertificates.make(dir.resolve("tls"));
    try (CoordinatorServer server = CoordinatorServer.start(settings("127.0.0.1", "s", tls))) {
      ProcessBuilder worker =
          new ProcessBuilder(
                  Processes.workerCommand(
                      "--join",
                      "127.0.0.1:" + server.port(),
                      "--tls-dir",
                      tls.toString(),
                      "--cache-dir",
                      dir.resolve("code").toString()))
              .inheritIO();
      worker.environment().put("FLOTILLA_SECRET", "s");
      Process p = worker.start();
      try (ClusterPool pool =
          Pools.track(
              ClusterPool.builder("127.0.0.1:" + server.port()).secret("s").tls(tls).build())) {
        // Joining took the cluster port too, which speaks TLS: the worker is a member, then a
        // worker.
        await("the worker joined over TLS").atMost(TestTime.LONG).until(() -> pool.workers() == 1);
        assertThat(pool.submit(() -> 6 * 7).get()).isEqualTo(42);
        assertThat(
                catchThrowable(
                    () -> ClusterPool.builder("127.0.0.1:" + server.port()).secret("s").build()))
            .isInstanceOf(BrokenPoolException.class)
            .hasMessageContaining("127.0.0.1:" + server.port());
      } finally {
        p.destroyForcibly();
      }
    }
  }

  @Test
  void withCertificatesTheDashboardSpeaksHttps() throws Exception {
    Path tls = TestCertificates.make(dir.resolve("tls"));
    try (CoordinatorServer server =
        CoordinatorServer.start(
            settings(
                "127.0.0.1",
                "s",
                tls,
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0)))) {
      assertThat(server.dashboardUrl()).startsWith("https://127.0.0.1:");
      java.net.http.HttpClient trusting =
          java.net.http.HttpClient.newBuilder()
              .sslContext(io.flotilla.internal.link.Tls.jdkClient(tls))
              .connectTimeout(Duration.ofSeconds(10))
              .build();
      java.net.http.HttpResponse<String> page =
          trusting.send(
              java.net.http.HttpRequest.newBuilder(
                      java.net.URI.create(server.dashboardUrl() + "api/fleet"))
                  .timeout(Duration.ofSeconds(30))
                  .build(),
              java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(page.statusCode()).isEqualTo(200);
      assertThat(page.body()).contains("\"source\":\"coordinator\"");
      // Plain HTTP to it gets no page.
      java.net.http.HttpClient plain =
          java.net.http.HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
      assertThat(
              catchThrowable(
                  () ->
                      plain.send(
                          java.net.http.HttpRequest.newBuilder(
                                  java.net.URI.create(
                                      server.dashboardUrl().replace("https:", "http:")
                                          + "api/fleet"))
                              .timeout(Duration.ofSeconds(10))
                              .build(),
                          java.net.http.HttpResponse.BodyHandlers.ofString())))
          .isInstanceOf(java.io.IOException.class);
    }
  }
}
