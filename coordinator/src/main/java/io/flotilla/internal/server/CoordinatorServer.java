package io.flotilla.internal.server;

import com.google.protobuf.ByteString;
import com.typesafe.config.Config;
import io.flotilla.internal.cluster.ClusterNode;
import io.flotilla.internal.codec.Codec;
import io.flotilla.internal.dashboard.DashboardServer;
import io.flotilla.internal.dashboard.FleetWatch;
import io.flotilla.internal.functions.FunctionRegistry;
import io.flotilla.internal.jobs.ClientTokens;
import io.flotilla.internal.jobs.JobLimits;
import io.flotilla.internal.jobs.JobService;
import io.flotilla.internal.link.NettyDefaults;
import io.flotilla.internal.metrics.PoolMetrics;
import io.flotilla.internal.scheduler.ChunkScheduler;
import io.flotilla.internal.scheduler.ProcessBackend;
import io.flotilla.internal.scheduler.RelayedJobs;
import io.flotilla.internal.scheduler.SchedulerMetrics;
import io.flotilla.internal.scheduler.WorkerLinkServer;
import io.flotilla.proto.ClientLinkGrpc;
import io.flotilla.proto.ClientMessage;
import io.flotilla.proto.CodeStoreGrpc;
import io.flotilla.proto.JobServiceGrpc;
import io.flotilla.proto.JoinReply;
import io.flotilla.proto.NoWorkers;
import io.flotilla.proto.ServerMessage;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A coordinator for many machines ({@code flotilla coordinator}): one scheduler shared by every
 * connected client, fed by workers that join from anywhere.
 *
 * <pre>
 *  clients ──ClientLink.Session──►┐                        ┌──WorkerLink.Attach──◄ workers (pull work)
 *  (ProcessPool.connect)          │   one gRPC port        │
 *  workers ──Membership.Join─────►┤   (SecretCheck first)  ├──CodeStore.Fetch────◄ workers (jars they lack)
 *  clients ──CodeStore.Upload────►┤                        │
 *  worker hosts ──Membership.     │                        │
 *    TaskJvmExited──────────────►┘ (JoinService ──► ClusterFleet: how a task JVM died, for its crash)
 *                                 ClientSession ──► RelayedJobs ──► ChunkScheduler ──► WorkerLinkServer
 *  any language ──JobService──────► (ClientTokens, StrictRequests first)                ▲
 *  (flotilla submit, Python)        JobService ──► ServiceJob ──► ProcessBackend ──────┘
 *                                   (inputs checked, results kept for reattaching)
 *  grpc.health.v1 / grpc.reflection.v1: standard tools
 *  Prometheus ──GET /metrics ──────┐ (own HTTP port)     PoolMetrics ◄──┬── ChunkScheduler's events,
 *  browser ──GET / , /api/events ──┴► DashboardServer ─► FleetWatch ◄──┘   told off its lock; its
 *  flotilla top ──GET /api/fleet ──┘  (a snapshot a second)               workers, queue, sessions
 *  Pekko seed node (cluster port): members downed or removed ──► WorkerLinkServer.memberGone ──► their
 *                                                                chunks run again elsewhere
 *                                   members unreachable ──► WorkerLinkServer.memberUnreachable ──► the
 *                                   same at once, uncharged; reachable again ──► memberReachable
 * </pre>
 *
 * <p>Secure by default: it listens on loopback unless told an address, and refuses to listen beyond
 * loopback without a cluster secret. Whoever holds the secret can run code on every worker. The job
 * service takes bearer tokens instead (the secret is one of them), and runs only functions
 * registered on the workers' class path, or in jars already in the code store (uploading takes the
 * secret).
 */
public final class CoordinatorServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CoordinatorServer.class);

  /**
   * How a coordinator runs.
   *
   * @param bindHost the address gRPC and the cluster listen on
   * @param port the gRPC port (clients and workers), 0 for any
   * @param clusterPort the Pekko port, 0 for any
   * @param advertiseHost the address workers reach this one by, or {@code null} to derive it
   * @param secret the cluster secret; may be empty only on loopback
   * @param dataDir where uploaded code is kept
   * @param maxAttempts runs of a chunk before its items fail with the worker's crash
   * @param stableAfter the split brain resolver's wait before it downs an unreachable member
   * @param tlsDir PEM files for the cluster's TLS ({@code tls.key}, {@code tls.crt}, {@code
   *     ca.crt}), or {@code null}
   * @param pekko further Pekko settings
   * @param clientTokens job-service tokens, each with its client's name; the cluster secret is also
   *     a token (of the client "cluster"). With neither, on loopback, the job service takes every
   *     call
   * @param jobLimits what the job service allows each client
   * @param noWorkersTimeout how long work may wait while no worker is ready before it fails with
   *     {@link io.flotilla.BrokenPoolException}; zero: it waits until one is (the wait is logged
   *     and reported either way)
   * @param metricsAddress where to serve {@code GET /metrics} for Prometheus (port 0 for any), or
   *     {@code null} for nowhere; beyond loopback it asks for the secret or a client token
   */
  public record Settings(
      String bindHost,
      int port,
      int clusterPort,
      String advertiseHost,
      String secret,
      Path dataDir,
      int maxAttempts,
      Duration stableAfter,
      Path tlsDir,
      Config pekko,
      Map<String, String> clientTokens,
      JobLimits jobLimits,
      Duration noWorkersTimeout,
      InetSocketAddress metricsAddress) {
    /** How long work waits for a worker, unless told otherwise. */
    public static final Duration DEFAULT_NO_WORKERS_TIMEOUT = Duration.ofSeconds(60);

    public Settings {
      if (noWorkersTimeout.isNegative()) {
        throw new IllegalArgumentException(
            "the no-workers timeout must not be negative: " + noWorkersTimeout);
      }
    }
  }

  /** The largest message accepted or sent: a chunk or a piece of results. */
  private static final int MAX_MESSAGE_BYTES = 256 << 20;

  /**
   * Longer than the cluster takes to down a silent member, so that the cluster decides who is gone;
   * a stream that breaks outright (a killed process, a reset connection) ends at once anyway.
   */
  private static final Duration STREAM_KEEPALIVE = Duration.ofSeconds(30);

  private final Server server;
  private final ClusterNode node;
  private final WorkerLinkServer link;
  private final ChunkScheduler scheduler;
  private final String advertise;
  private final List<ExecutorService> executors;
  private final HealthStatusManager health;
  private final Set<ClientSession> sessions;
  private final PoolMetrics metrics;
  private final DashboardServer dashboard; // null: not served
  private final AtomicBoolean closed = new AtomicBoolean();

  private CoordinatorServer(
      Server server,
      ClusterNode node,
      WorkerLinkServer link,
      ChunkScheduler scheduler,
      String advertise,
      List<ExecutorService> executors,
      HealthStatusManager health,
      Set<ClientSession> sessions,
      PoolMetrics metrics,
      DashboardServer dashboard) {
    this.metrics = metrics;
    this.dashboard = dashboard;
    this.executors = executors;
    this.sessions = sessions;
    this.health = health;
    this.server = server;
    this.node = node;
    this.link = link;
    this.scheduler = scheduler;
    this.advertise = advertise;
  }

  /**
   * Starts listening and founds the cluster.
   *
   * @param s the settings
   * @return the running server
   * @throws IOException if a port cannot be bound
   * @throws IllegalArgumentException if asked to listen beyond loopback with no secret
   */
  public static CoordinatorServer start(Settings s) throws IOException {
    NettyDefaults.apply();
    InetAddress bind = InetAddress.getByName(s.bindHost());
    if (!bind.isLoopbackAddress() && s.secret().isEmpty()) {
      throw new IllegalArgumentException(
          "refusing to listen on "
              + s.bindHost()
              + " without a cluster secret: anyone who can reach it could run code on the workers."
              + " Set FLOTILLA_SECRET (or --secret-file), or listen on 127.0.0.1");
    }
    io.flotilla.internal.link.SecretHeader.check(s.secret());
    if (!bind.isLoopbackAddress() && s.tlsDir() == null) {
      log.warn(
          "the cluster port listens on {} without TLS: whoever reaches it can join the membership and down"
              + " members (though not run work, which takes the secret). Give --tls-dir, or let only your"
              + " workers reach it",
          s.bindHost());
    }
    String advertise = s.advertiseHost() != null ? s.advertiseHost() : advertisable(bind);
    Codec codec = new Codec(CoordinatorServer.class.getClassLoader());
    // A chunk stopped while it runs (cancel(true)) takes its worker with it: the worker is told to
    // exit.
    java.util.concurrent.atomic.AtomicReference<WorkerLinkServer> links =
        new java.util.concurrent.atomic.AtomicReference<>();
    ChunkScheduler scheduler =
        new ChunkScheduler(s.maxAttempts(), 0, id -> {}, null, id -> links.get().stopWorker(id));
    ClusterFleet fleet = new ClusterFleet();
    WorkerLinkServer link =
        new WorkerLinkServer(
            scheduler,
            codec,
            s.secret(),
            ByteString.EMPTY,
            MAX_MESSAGE_BYTES,
            STREAM_KEEPALIVE,
            fleet);
    links.set(link);
    RelayedJobs relayed = new RelayedJobs(scheduler);
    AtomicLong sessionIds = new AtomicLong();
    Set<ClientSession> sessions = ConcurrentHashMap.newKeySet();
    // Counting starts before any worker or client can reach the scheduler.
    PoolMetrics metrics = new PoolMetrics(scheduler);
    FleetWatch watch =
        new FleetWatch("coordinator", "coordinator on " + s.bindHost(), scheduler, sessions::size);
    scheduler.metrics(SchedulerMetrics.both(metrics, watch));
    tellClientsOfNoWorkers(scheduler, s.noWorkersTimeout(), sessions);
    ClientLinkGrpc.ClientLinkImplBase clients =
        new ClientLinkGrpc.ClientLinkImplBase() {
          @Override
          public StreamObserver<ClientMessage> session(StreamObserver<ServerMessage> out) {
            ClientSession session =
                new ClientSession(
                    out,
                    relayed,
                    fleet,
                    codec.fingerprint(),
                    MAX_MESSAGE_BYTES,
                    "s" + sessionIds.incrementAndGet(),
                    sessions::remove,
                    () -> noWorkersNow(scheduler, s.noWorkersTimeout()));
            sessions.add(session);
            return session;
          }
        };
    ClusterNode node =
        ClusterNode.start(
            new ClusterNode.Settings(
                s.bindHost(),
                s.clusterPort(),
                advertise,
                null,
                0,
                ClusterNode.COORDINATOR,
                s.stableAfter(),
                s.tlsDir(),
                s.pekko()),
            // A worker's host that stops answering has its chunks run elsewhere at once, long
            // before the cluster downs it; the gRPC stream's keepalive is slower still.
            new ClusterNode.MemberWatch() {
              @Override
              public void gone(String address, String why) {
                link.memberGone(address, why);
              }

              @Override
              public void unreachable(String address) {
                link.memberUnreachable(address);
              }

              @Override
              public void reachable(String address) {
                link.memberReachable(address);
              }
            });
    awaitUp(node, s);
    JoinReply seed =
        JoinReply.newBuilder()
            .setSystemName(ClusterNode.SYSTEM_NAME)
            .setSeedHost(advertise)
            .setSeedPort(node.port())
            .build();
    SecretCheck check = new SecretCheck(s.secret());
    ExecutorService codeIo = Executors.newCachedThreadPool(daemons("flotilla-code-store"));
    ExecutorService jobWork = Executors.newCachedThreadPool(daemons("flotilla-jobs"));
    CodeStore code = new CodeStore(s.dataDir().resolve("code"), 1L << 30);
    JobService jobs =
        new JobService(
            // Its parallelism sizes map windows, which jobs do not use: they size chunks by the
            // fleet.
            new ProcessBackend(
                scheduler, codec, CoordinatorServer.class.getClassLoader(), 1, MAX_MESSAGE_BYTES),
            () -> fleet.now().getThreads(),
            scheduler,
            FunctionRegistry.of(CoordinatorServer.class.getClassLoader()),
            code::has,
            s.jobLimits(),
            jobWork);
    Map<String, String> tokens = new HashMap<>(s.clientTokens());
    if (!s.secret().isEmpty()) {
      tokens.put(s.secret(), "cluster");
    }
    ClientTokens clientTokens = new ClientTokens(tokens);
    HealthStatusManager health = new HealthStatusManager();
    ScheduledExecutorService sweeper =
        Executors.newSingleThreadScheduledExecutor(daemons("flotilla-job-sweeper"));
    long sweepMs = Math.max(100, Math.min(10_000, s.jobLimits().retention().toMillis() / 4));
    var unused =
        sweeper.scheduleWithFixedDelay(jobs::sweep, sweepMs, sweepMs, TimeUnit.MILLISECONDS);
    Server server;
    metrics.server(
        sessions::size,
        code::fetches,
        state ->
            jobs.jobsIn(
                io.flotilla.proto.JobState.valueOf(state.toUpperCase(java.util.Locale.ROOT))));
    DashboardServer dashboard = null;
    try {
      if (s.metricsAddress() != null) {
        dashboard =
            DashboardServer.start(
                s.metricsAddress(),
                watch,
                metrics,
                clientTokens::accepts,
                clientTokens.required(),
                s.tlsDir() == null ? null : io.flotilla.internal.link.Tls.jdkServer(s.tlsDir()));
      }
      // A connection refused before its first call (TLS on one side only, a certificate not
      // trusted)
      // is logged here; calls refused later are logged by whoever refuses them.
      NettyServerBuilder builder =
          NettyServerBuilder.forAddress(
              new InetSocketAddress(bind, s.port()),
              io.flotilla.internal.link.Tls.serverCredentials(
                  s.tlsDir(),
                  (peer, why) -> log.warn("refused a connection from {}: {}", peer, why)));
      server =
          builder
              .maxInboundMessageSize(MAX_MESSAGE_BYTES)
              .keepAliveTime(STREAM_KEEPALIVE.toMillis() / 3, TimeUnit.MILLISECONDS)
              .keepAliveTimeout(STREAM_KEEPALIVE.toMillis() * 2 / 3, TimeUnit.MILLISECONDS)
              // Clients and workers ping to keep idle streams open through NAT and load balancers.
              .permitKeepAliveTime(5, TimeUnit.SECONDS)
              .directExecutor()
              // Code moves on threads that may block on disks; work and results keep the network
              // threads.
              .callExecutor(
                  new io.grpc.ServerCallExecutorSupplier() {
                    @Override
                    public <Q, A> java.util.concurrent.Executor getExecutor(
                        io.grpc.ServerCall<Q, A> call, io.grpc.Metadata headers) {
                      String service = call.getMethodDescriptor().getServiceName();
                      if (service.equals(CodeStoreGrpc.SERVICE_NAME)) {
                        return codeIo;
                      }
                      // Checking inputs and sending results is work: not for the network threads.
                      return service.equals(JobServiceGrpc.SERVICE_NAME) ? jobWork : null;
                    }
                  })
              .addService(ServerInterceptors.intercept(link.service(), check))
              .addService(ServerInterceptors.intercept(clients, check))
              .addService(
                  ServerInterceptors.intercept(
                      new JoinService(codec.fingerprint(), seed, s.tlsDir() != null, fleet), check))
              .addService(ServerInterceptors.intercept(code, check))
              .addService(ServerInterceptors.intercept(jobs.checkedService(), clientTokens))
              // Standard tools (grpcurl, grpc_health_probe, Kubernetes' gRPC probes) find their way
              // in.
              // Health says only whether the server is up, so it needs no token; reflection does.
              .addService(health.getHealthService())
              .addService(
                  ServerInterceptors.intercept(
                      ProtoReflectionServiceV1.newInstance(), clientTokens))
              .build()
              .start();
    } catch (IOException | RuntimeException e) {
      if (dashboard != null) {
        dashboard.close();
      }
      metrics.close();
      node.close();
      codeIo.shutdownNow();
      jobWork.shutdownNow();
      sweeper.shutdownNow();
      throw e;
    }
    health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, ServingStatus.SERVING);
    health.setStatus(JobServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
    CoordinatorServer started =
        new CoordinatorServer(
            server,
            node,
            link,
            scheduler,
            advertise,
            List.of(codeIo, jobWork, sweeper),
            health,
            sessions,
            metrics,
            dashboard);
    log.info(
        "coordinator listening on {}:{}, cluster seed {}",
        s.bindHost(),
        server.getPort(),
        node.selfAddress());
    return started;
  }

  /**
   * Work that waits with no worker to run it is said so at once, in the log and to every client,
   * rather than left waiting unseen; after the patience it fails.
   */
  private static void tellClientsOfNoWorkers(
      ChunkScheduler scheduler, Duration patience, Set<ClientSession> sessions) {
    scheduler.watchForNoWorkers(
        patience,
        new ChunkScheduler.NoWorkersListener() {
          @Override
          public void waiting(int chunksWaiting) {
            tell(
                NoWorkers.newBuilder()
                    .setChunksWaiting(chunksWaiting)
                    .setFailAfterMs(patience.toMillis())
                    .build());
          }

          @Override
          public void ended() {
            tell(NoWorkers.newBuilder().setEnded(true).build());
          }

          private void tell(NoWorkers news) {
            for (ClientSession session : sessions) {
              session.noWorkers(news);
            }
          }
        });
  }

  /**
   * @return the wait for workers under way, as a client that connects during it is told; null if
   *     none
   */
  private static NoWorkers noWorkersNow(ChunkScheduler scheduler, Duration patience) {
    ChunkScheduler.Starvation now = scheduler.starvation();
    if (now == null) {
      return null;
    }
    // What is left of the patience: 0 would mean never, so a wait about to end says 1 ms.
    long failAfterMs = patience.isZero() ? 0 : Math.max(1, patience.minus(now.waited()).toMillis());
    return NoWorkers.newBuilder()
        .setChunksWaiting(now.chunksWaiting())
        .setFailAfterMs(failAfterMs)
        .build();
  }

  /** How long a seed may take to be Up: it joins only itself, normally within a second. */
  private static final Duration SEED_UP_WAIT = Duration.ofSeconds(60);

  /**
   * A node that stops before it is Up could not start, most often for a cluster port in use: that
   * is a setting to change, not a coordinator that was downed later.
   */
  private static void awaitUp(ClusterNode node, Settings s) throws IOException {
    try {
      java.util.concurrent.CompletableFuture.anyOf(node.up(), node.terminated())
          .get(SEED_UP_WAIT.toSeconds(), TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      // Neither Up nor stopped: said below.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (!node.up().isDone()) {
      node.close();
      throw new IOException(
          "the cluster node could not start on "
              + s.bindHost()
              + ", cluster port "
              + s.clusterPort()
              + " (is that port in use? --cluster-port chooses another)");
    }
  }

  /**
   * @return the gRPC port
   */
  public int port() {
    return server.getPort();
  }

  /**
   * @return where the dashboard and {@code GET /metrics} are served, with the port, or {@code null}
   *     if they are not
   */
  public InetSocketAddress metricsAddress() {
    return dashboard == null ? null : dashboard.address();
  }

  /**
   * @return the dashboard page's address ({@code http://127.0.0.1:8787/}), or {@code null} if it is
   *     not served
   */
  public String dashboardUrl() {
    return dashboard == null ? null : dashboard.url();
  }

  /**
   * @return the cluster (Pekko) port
   */
  public int clusterPort() {
    return node.port();
  }

  /**
   * @return the address workers are told to reach the cluster by
   */
  public String advertisedHost() {
    return advertise;
  }

  /**
   * @return completes when the cluster node stops (it was downed, or {@link #close()} ran)
   */
  public java.util.concurrent.CompletableFuture<Void> clusterStopped() {
    return node.terminated();
  }

  /**
   * Stops gracefully: workers are told the coordinator is stopping (they finish nothing more, and
   * those that joined from elsewhere exit 0), clients are told so too, and the node leaves the
   * cluster. Only the first call does anything; the others return at once.
   */
  @Override
  public void close() {
    stop(true);
  }

  /**
   * Stops after a failure (the cluster downed this node): workers and clients are not told the
   * coordinator is stopping, since nobody asked it to. They find it gone, and workers exit
   * non-zero, for their supervisors to start them again for the coordinator that replaces this one.
   */
  public void closeAfterFailure() {
    stop(false);
  }

  private void stop(boolean asked) {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    health.enterTerminalState();
    if (asked) {
      link.stopWorkers();
      for (ClientSession session : List.copyOf(sessions)) {
        session.coordinatorStopping();
      }
    }
    server.shutdown();
    try {
      if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
        server.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.shutdownNow();
    }
    if (dashboard != null) {
      dashboard.close();
    }
    metrics.close();
    executors.forEach(ExecutorService::shutdownNow);
    scheduler.close();
    node.close();
  }

  /** Threads that do not keep the JVM alive: the command's shutdown hook closes the server. */
  private static java.util.concurrent.ThreadFactory daemons(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  /** A wildcard address is no address to give out: the machine's first non-loopback one is. */
  private static String advertisable(InetAddress bind)
      throws UnknownHostException, SocketException {
    if (!bind.isAnyLocalAddress()) {
      return bind.getHostAddress();
    }
    for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (nic.isUp() && !nic.isLoopback()) {
        for (InetAddress a : Collections.list(nic.getInetAddresses())) {
          if (a instanceof java.net.Inet4Address) {
            return a.getHostAddress();
          }
        }
      }
    }
    return InetAddress.getLocalHost().getHostAddress();
  }
}
