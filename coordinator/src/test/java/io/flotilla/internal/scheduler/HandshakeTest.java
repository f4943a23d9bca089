package io.flotilla.internal.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.flotilla.internal.codec.Codec;
import io.flotilla.proto.CoordinatorMessage;
import io.flotilla.proto.Hello;
import io.flotilla.proto.Ready;
import io.flotilla.proto.WorkerLinkGrpc;
import io.flotilla.proto.WorkerMessage;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The handshake over a real loopback socket: the coordinator refuses a worker with the wrong token,
 * protocol version or serializer, with a reason saying which, before it gets any work; and a real
 * worker JVM refuses a coordinator whose serializer differs.
 */
@Timeout(60)
class HandshakeTest {
  private static final String TOKEN = "secret-token";

  private final Codec codec = new Codec(HandshakeTest.class.getClassLoader());
  private final ChunkScheduler scheduler = new ChunkScheduler(1);
  private WorkerLinkServer server;
  private ManagedChannel channel;

  private final FleetListener fleet =
      new FleetListener() {
        @Override
        public void attached(String workerId) {}

        @Override
        public void ready(String workerId, int threads) {}

        @Override
        public CompletableFuture<WorkerDeath> lost(String workerId, String streamEnd) {
          return CompletableFuture.completedFuture(WorkerDeath.UNKNOWN);
        }

        @Override
        public void initializerFailed(String workerId, long pid, Throwable error) {}
      };

  @BeforeEach
  void start() throws Exception {
    server =
        new WorkerLinkServer(
            scheduler,
            codec,
            TOKEN,
            ByteString.EMPTY,
            1 << 20,
            java.time.Duration.ofSeconds(3),
            fleet);
    int port = server.start(0);
    channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.shutdown();
  }

  /** Opens a stream, says hello, and returns what the coordinator answers until it closes. */
  private List<CoordinatorMessage> helloAndListen(Hello hello) throws Exception {
    LinkedBlockingQueue<CoordinatorMessage> received = new LinkedBlockingQueue<>();
    CompletableFuture<Void> closed = new CompletableFuture<>();
    StreamObserver<WorkerMessage> out =
        WorkerLinkGrpc.newStub(channel)
            .attach(
                new StreamObserver<>() {
                  @Override
                  public void onNext(CoordinatorMessage m) {
                    received.add(m);
                  }

                  @Override
                  public void onError(Throwable t) {
                    closed.complete(null);
                  }

                  @Override
                  public void onCompleted() {
                    closed.complete(null);
                  }
                });
    out.onNext(WorkerMessage.newBuilder().setHello(hello).build());
    CoordinatorMessage first = received.poll(10, TimeUnit.SECONDS);
    assertThat(first).as("the coordinator's answer to Hello").isNotNull();
    if (first.hasRefusal()) {
      closed.get(10, TimeUnit.SECONDS);
    } else {
      out.onCompleted();
    }
    return List.of(first);
  }

  private Hello.Builder goodHello() {
    return Hello.newBuilder()
        .setProtocolVersion(Codec.PROTOCOL_VERSION)
        .setCodecFingerprint(codec.fingerprint())
        .setWorkerId("w-test")
        .setPid(1)
        .setHost("here")
        .setThreads(1)
        .setToken(TOKEN);
  }

  @Test
  void aCorrectHelloIsWelcomedWithTheCoordinatorsOwnVersionAndFingerprint() throws Exception {
    CoordinatorMessage answer = helloAndListen(goodHello().build()).get(0);
    assertThat(answer.hasWelcome()).isTrue();
    assertThat(answer.getWelcome().getProtocolVersion()).isEqualTo(Codec.PROTOCOL_VERSION);
    assertThat(answer.getWelcome().getCodecFingerprint()).isEqualTo(codec.fingerprint());
  }

  @Test
  void aWrongTokenIsRefused() throws Exception {
    CoordinatorMessage answer = helloAndListen(goodHello().setToken("guess").build()).get(0);
    assertThat(answer.getRefusal().getReason()).isEqualTo("wrong token");
    assertThat(scheduler.readyWorkers()).isZero();
  }

  @Test
  void anotherProtocolVersionIsRefusedNamingBothVersions() throws Exception {
    CoordinatorMessage answer =
        helloAndListen(goodHello().setProtocolVersion(Codec.PROTOCOL_VERSION + 1).build()).get(0);
    assertThat(answer.getRefusal().getReason())
        .contains("protocol version " + (Codec.PROTOCOL_VERSION + 1))
        .contains("speaks " + Codec.PROTOCOL_VERSION);
  }

  @Test
  void anotherSerializerIsRefusedBeforeAnyWork() throws Exception {
    CoordinatorMessage answer =
        helloAndListen(goodHello().setCodecFingerprint("0123456789ab").build()).get(0);
    assertThat(answer.getRefusal().getReason())
        .contains("fingerprint 0123456789ab")
        .contains("different Kryo version or registrations");
  }

  @Test
  void aMessageBeforeHelloIsRefused() throws Exception {
    LinkedBlockingQueue<CoordinatorMessage> received = new LinkedBlockingQueue<>();
    StreamObserver<WorkerMessage> out =
        WorkerLinkGrpc.newStub(channel)
            .attach(
                new StreamObserver<>() {
                  @Override
                  public void onNext(CoordinatorMessage m) {
                    received.add(m);
                  }

                  @Override
                  public void onError(Throwable t) {}

                  @Override
                  public void onCompleted() {}
                });
    out.onNext(WorkerMessage.newBuilder().setReady(Ready.newBuilder().setCredits(5)).build());
    CoordinatorMessage answer = received.poll(10, TimeUnit.SECONDS);
    assertThat(answer.getRefusal().getReason()).contains("first message must be Hello");
    assertThat(scheduler.readyWorkers()).isZero();
  }

  /** A fake coordinator whose Welcome carries a foreign fingerprint: the real worker must leave. */
  @Test
  void aRealWorkerRefusesACoordinatorWithAnotherSerializer() throws Exception {
    io.grpc.Server fake =
        io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder.forAddress(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0))
            .addService(
                new WorkerLinkGrpc.WorkerLinkImplBase() {
                  @Override
                  public StreamObserver<WorkerMessage> attach(
                      StreamObserver<CoordinatorMessage> out) {
                    return new StreamObserver<>() {
                      @Override
                      public void onNext(WorkerMessage m) {
                        out.onNext(
                            CoordinatorMessage.newBuilder()
                                .setWelcome(
                                    io.flotilla.proto.Welcome.newBuilder()
                                        .setProtocolVersion(Codec.PROTOCOL_VERSION)
                                        .setCodecFingerprint("ffffffffffff"))
                                .build());
                      }

                      @Override
                      public void onError(Throwable t) {}

                      @Override
                      public void onCompleted() {
                        out.onCompleted();
                      }
                    };
                  }
                })
            .build()
            .start();
    try {
      Process worker =
          new ProcessBuilder(
                  io.flotilla.Processes.workerCommand("--connect", "127.0.0.1:" + fake.getPort()))
              .redirectErrorStream(true)
              .start();
      worker.getOutputStream().close();
      assertThat(worker.waitFor(30, TimeUnit.SECONDS)).as("worker exited").isTrue();
      String output =
          new String(
              worker.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      assertThat(worker.exitValue()).isEqualTo(64);
      assertThat(output).contains("refuses its coordinator").contains("fingerprint ffffffffffff");
    } finally {
      fake.shutdownNow();
    }
  }
}
