package io.flotilla.internal.scheduler;

import com.google.protobuf.ByteString;
import io.flotilla.WorkerCrashedException;
import io.flotilla.internal.codec.Codec;
import io.flotilla.internal.codec.RemoteErrors;
import io.flotilla.internal.link.Handshake;
import io.flotilla.internal.link.NettyDefaults;
import io.flotilla.internal.link.Peer;
import io.flotilla.proto.CoordinatorMessage;
import io.flotilla.proto.Hello;
import io.flotilla.proto.Refusal;
import io.flotilla.proto.Stop;
import io.flotilla.proto.StopReason;
import io.flotilla.proto.Welcome;
import io.flotilla.proto.WorkerLinkGrpc;
import io.flotilla.proto.WorkerMessage;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's end of the Attach stream: checks each worker's handshake, then turns its
 * messages into scheduler events. Listens on loopback only.
 */
public final class WorkerLinkServer {
  private static final Logger log = LoggerFactory.getLogger(WorkerLinkServer.class);

  /**
   * How often workers are asked to report their resources (Welcome's sample_period_millis). A
   * second is fine enough for {@code flotilla status} and for Prometheus, which scrapes every 15 s
   * or so, and costs a message of about 40 bytes a second per worker, handled without the
   * scheduler's lock.
   */
  static final int SAMPLE_PERIOD_MILLIS = 1000;

  static {
    NettyDefaults.apply();
  }

  private final ChunkScheduler scheduler;
  private final Codec codec;
  private final byte[] token;
  private final ByteString initializer;
  private final int maxMessageBytes;
  private final FleetListener fleet;
  private final Duration heartbeatTimeout;
  private List<String> retryOn = List.of();
  private int maxAttempts = 1;
  private long recycleAboveHeapBytes;
  private final Map<String, Connection> connections = new ConcurrentHashMap<>();
  private volatile boolean stopping;
  private Server server;

  /**
   * @param scheduler where work comes from
   * @param codec the codec, whose fingerprint workers must match
   * @param token the secret workers must present
   * @param initializer the encoded initializer, or empty
   * @param maxMessageBytes the largest message accepted
   * @param heartbeatTimeout how long a worker may go without answering before it is declared lost
   * @param fleet told of attachments, readiness and losses
   */
  public WorkerLinkServer(
      ChunkScheduler scheduler,
      Codec codec,
      String token,
      ByteString initializer,
      int maxMessageBytes,
      Duration heartbeatTimeout,
      FleetListener fleet) {
    this.heartbeatTimeout = heartbeatTimeout;
    this.scheduler = scheduler;
    this.codec = codec;
    this.token = token.getBytes(StandardCharsets.UTF_8);
    this.initializer = initializer;
    this.maxMessageBytes = maxMessageBytes;
    this.fleet = fleet;
  }

  /**
   * Application exceptions after which workers run an item again, in place.
   *
   * @param classNames exception classes (subclasses match too)
   * @param attempts runs of an item in all, at least 1
   */
  public void retryOn(List<String> classNames, int attempts) {
    this.retryOn = List.copyOf(classNames);
    this.maxAttempts = attempts;
  }

  /**
   * @param bytes heap kept after collections above which a worker is replaced; 0 for no limit
   */
  public void recycleAboveHeap(long bytes) {
    this.recycleAboveHeapBytes = bytes;
  }

  /**
   * Starts listening on loopback.
   *
   * @param port the port, or 0 for an ephemeral one
   * @return the port
   * @throws IOException if the server cannot bind
   */
  public int start(int port) throws IOException {
    server =
        NettyServerBuilder.forAddress(
                new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port))
            .maxInboundMessageSize(maxMessageBytes)
            // HTTP/2 pings, answered by the worker's network thread whatever its tasks are doing: a
            // worker that stops answering (a hung or SIGSTOPped JVM, a dead host) has its stream
            // closed, and its chunks run elsewhere. A ping every third of the timeout leaves room
            // for
            // one late answer.
            .keepAliveTime(heartbeatTimeout.toMillis() / 3, TimeUnit.MILLISECONDS)
            .keepAliveTimeout(heartbeatTimeout.toMillis() * 2 / 3, TimeUnit.MILLISECONDS)
            .directExecutor()
            .addService(service())
            .build()
            .start();
    return server.getPort();
  }

  /**
   * @return the Attach service, for a server that hosts it beside others (a coordinator server);
   *     its handlers never block, so it may run on the network threads
   */
  public BindableService service() {
    return new WorkerLinkGrpc.WorkerLinkImplBase() {
      @Override
      public StreamObserver<WorkerMessage> attach(StreamObserver<CoordinatorMessage> out) {
        return new Connection(out);
      }
    };
  }

  /**
   * The cluster removed or downed a member: the worker that attached from it is lost, whether or
   * not its stream has noticed (a machine cut off by the network says nothing).
   *
   * @param clusterAddress the member's address
   * @param why in words
   */
  public void memberGone(String clusterAddress, String why) {
    for (Connection c : connections.values()) {
      if (clusterAddress.equals(c.clusterAddress)) {
        c.ended(false, why);
        c.abandon(why);
      }
    }
  }

  /**
   * The cluster's failure detector finds a member unreachable: the worker that attached from it
   * gets no more work, and the chunks it holds run elsewhere at once, whether or not its stream has
   * noticed (a cut cable says nothing, and the stream's keepalive takes longer than the detector).
   * It stays attached: the network may heal before the cluster downs the member ({@link
   * #memberGone}).
   *
   * @param clusterAddress the member's address
   */
  public void memberUnreachable(String clusterAddress) {
    for (Connection c : connections.values()) {
      WorkerHandle h = c.handle;
      if (h != null && clusterAddress.equals(c.clusterAddress)) {
        scheduler.workerUnreachable(h);
      }
    }
  }

  /**
   * A member found unreachable answers again, and was not downed meanwhile: its worker learns which
   * of its chunks ran elsewhere, and takes work again.
   *
   * @param clusterAddress the member's address
   */
  public void memberReachable(String clusterAddress) {
    for (Connection c : connections.values()) {
      WorkerHandle h = c.handle;
      if (h != null && clusterAddress.equals(c.clusterAddress)) {
        scheduler.workerReachable(h);
      }
    }
  }

  /** A worker process exited: treat its stream as ended, even if the socket has not noticed yet. */
  public void processExited(String workerId) {
    Connection c = connections.get(workerId);
    if (c != null) {
      c.ended(false, "its process exited");
    }
  }

  /**
   * Asks every attached worker to exit, and any that attaches from now on as soon as it does: this
   * side is stopping, as it was asked to, and workers that joined from elsewhere exit 0 rather than
   * wait to be started again. Their streams' ends are departures from now on, not losses.
   */
  public void stopWorkers() {
    stopping = true;
    for (Connection c : connections.values()) {
      if (c.handle != null) {
        stop(c.handle, StopReason.STOP_REASON_COORDINATOR_STOPPING);
      }
    }
  }

  /**
   * Tells one worker to exit now, running chunks and all: how a coordinator of workers on other
   * machines stops a chunk that is running (cancel(true)), since a JVM cannot stop a thread. The
   * worker's supervisor starts it again; its stream's end settles its chunks.
   *
   * @param workerId the worker
   */
  public void stopWorker(String workerId) {
    Connection c = connections.get(workerId);
    if (c != null && c.handle != null) {
      c.leaving = "told to exit, to stop a task it was running";
      // The stream stays open until the worker closes it or dies: its end, not this message, is
      // what settles its chunks, and a member that stays in the cluster gives no other sign.
      c.handle.send(
          CoordinatorMessage.newBuilder()
              .setStop(Stop.newBuilder().setReason(StopReason.STOP_REASON_RESTART))
              .build());
    }
  }

  /** Sending it twice, if a worker attaches while {@link #stopWorkers()} runs, is harmless. */
  private static void stop(WorkerHandle worker, StopReason reason) {
    worker.send(
        CoordinatorMessage.newBuilder().setStop(Stop.newBuilder().setReason(reason)).build());
    worker.complete();
  }

  /** Stops listening and drops every stream. */
  public void shutdown() {
    if (server != null) {
      server.shutdownNow();
      try {
        server.awaitTermination(2, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private final class Connection implements StreamObserver<WorkerMessage> {
    private final StreamObserver<CoordinatorMessage> out;

    /**
     * Where it called from, for the log; null for a local pool's worker, whose calls are not
     * checked.
     */
    private final Peer peer = Peer.current();

    private volatile WorkerHandle handle;
    private volatile String clusterAddress = "";

    /** Set once, under this; read unlocked to drop the messages of a worker already given up on. */
    private volatile boolean ended;

    /** Why the worker said it is leaving, or null: its stream's end is then a departure. */
    private volatile String leaving;

    Connection(StreamObserver<CoordinatorMessage> out) {
      this.out = out;
    }

    @Override
    public void onNext(WorkerMessage message) {
      if (ended) {
        // Given up on (the cluster downed its member) while its messages were still arriving.
        return;
      }
      if (handle == null && message.getKindCase() != WorkerMessage.KindCase.HELLO) {
        refuse("the first message must be Hello, got " + message.getKindCase());
        return;
      }
      WorkerHandle h = handle;
      if (h != null) {
        h.heard(System.nanoTime());
      }
      switch (message.getKindCase()) {
        case HELLO -> hello(message.getHello());
        case READY -> {
          scheduler.workerReady(handle, message.getReady().getCredits());
          fleet.ready(handle.id, handle.threads);
        }
        case STARTED ->
            scheduler.started(
                handle, message.getStarted().getChunkId(), message.getStarted().getAttempt());
        case RESULT -> scheduler.result(handle, message.getResult());
        case LEAVING -> leaving = message.getLeaving().getReason();
        case SAMPLE -> handle.sampled(message.getSample(), System.nanoTime());
        case INITIALIZER_FAILED ->
            fleet.initializerFailed(
                handle.id,
                handle.pid,
                RemoteErrors.rebuild(
                    message.getInitializerFailed().getError(),
                    Thread.currentThread().getContextClassLoader()));
        default -> log.warn("ignoring unknown message {} from {}", message.getKindCase(), handle);
      }
    }

    private void hello(Hello hello) {
      if (handle != null) {
        refuse("Hello sent twice");
        return;
      }
      String problem = Handshake.hello(hello, token, codec.fingerprint());
      if (problem != null) {
        log.warn(
            "refusing worker {} (pid {}{}): {}",
            hello.getWorkerId(),
            hello.getPid(),
            peer == null ? "" : " from " + peer,
            problem);
        refuse(problem);
        return;
      }
      WorkerHandle h =
          new WorkerHandle(
              hello.getWorkerId(),
              hello.getPid(),
              hello.getHost(),
              hello.getThreads(),
              hello.getCores(),
              hello.getJavaVersion(),
              hello.getFlotillaVersion(),
              System.nanoTime(),
              out);
      if (connections.putIfAbsent(h.id, this) != null) {
        refuse("a worker with id " + h.id + " is already attached");
        return;
      }
      handle = h;
      clusterAddress = hello.getClusterAddress();
      fleet.attached(h.id);
      // Attached after the pool closed (a worker left to finish booting): it gets no initializer to
      // run.
      // The handle is published before this check, so a stopWorkers() that sets the flag just after
      // it
      // finds the handle and stops the worker itself.
      if (stopping) {
        stop(h, StopReason.STOP_REASON_COORDINATOR_STOPPING);
        return;
      }
      h.send(
          CoordinatorMessage.newBuilder()
              .setWelcome(
                  Welcome.newBuilder()
                      .setInitializer(initializer)
                      .setMaxMessageBytes(maxMessageBytes)
                      .setProtocolVersion(Codec.PROTOCOL_VERSION)
                      .setCodecFingerprint(codec.fingerprint())
                      .addAllRetryOn(retryOn)
                      .setMaxAttempts(maxAttempts)
                      .setRecycleAboveHeapBytes(recycleAboveHeapBytes)
                      .setSamplePeriodMillis(SAMPLE_PERIOD_MILLIS))
              .build());
    }

    private void refuse(String reason) {
      synchronized (out) {
        try {
          out.onNext(
              CoordinatorMessage.newBuilder()
                  .setRefusal(Refusal.newBuilder().setReason(reason))
                  .build());
          out.onCompleted();
        } catch (RuntimeException ignored) {
          // the worker already hung up
        }
      }
    }

    /**
     * Closes the stream from this end, for a worker given up on: it learns why if it ever hears.
     */
    void abandon(String why) {
      synchronized (out) {
        try {
          out.onError(io.grpc.Status.UNAVAILABLE.withDescription(why).asRuntimeException());
        } catch (RuntimeException ignored) {
          // already closed
        }
      }
    }

    @Override
    public void onError(Throwable error) {
      io.grpc.Status status = io.grpc.Status.fromThrowable(error);
      ended(
          false,
          status.getCode()
              + (status.getDescription() == null ? "" : ": " + status.getDescription()));
    }

    @Override
    public void onCompleted() {
      ended(true, "the worker closed its stream");
    }

    void ended(boolean reply, String how) {
      synchronized (this) {
        if (ended) {
          return;
        }
        ended = true;
      }
      if (reply) {
        synchronized (out) {
          try {
            out.onCompleted();
          } catch (RuntimeException ignored) {
            // already closed
          }
        }
      }
      WorkerHandle h = handle;
      if (h == null || !connections.remove(h.id, this)) {
        return;
      }
      scheduler.workerDetached(h);
      String left = leaving != null ? leaving : stopping ? "the coordinator is stopping" : null;
      var unused =
          (left != null ? fleet.left(h.id, left) : fleet.lost(h.id, how))
              .exceptionally(e -> WorkerDeath.UNKNOWN)
              .thenAccept(
                  death ->
                      scheduler.workerLost(
                          h,
                          left != null,
                          death,
                          chunk ->
                              new WorkerCrashedException(
                                  h.id,
                                  h.pid,
                                  h.host,
                                  death.exitCode(),
                                  death.stderrTail(),
                                  chunk.tries,
                                  chunk.firstUnanswered(),
                                  death.how())));
    }
  }
}
