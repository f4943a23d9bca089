package io.flotilla.internal.server;

import io.flotilla.internal.codec.RemoteErrors;
import io.flotilla.internal.link.Handshake;
import io.flotilla.internal.link.Peer;
import io.flotilla.internal.map.ChunkBackend;
import io.flotilla.internal.map.JobLabel;
import io.flotilla.internal.scheduler.RelayedJobs;
import io.flotilla.proto.CancelReply;
import io.flotilla.proto.ChunkFailed;
import io.flotilla.proto.ChunkResult;
import io.flotilla.proto.ChunkSuspect;
import io.flotilla.proto.ClientHello;
import io.flotilla.proto.ClientMessage;
import io.flotilla.proto.ClientWelcome;
import io.flotilla.proto.FleetChanged;
import io.flotilla.proto.NoWorkers;
import io.flotilla.proto.OpenJob;
import io.flotilla.proto.Refusal;
import io.flotilla.proto.Relayed;
import io.flotilla.proto.ServerMessage;
import io.flotilla.proto.Submit;
import io.flotilla.proto.WorkerRef;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One remote client's Session stream: its jobs and chunks go into the shared scheduler, and each
 * chunk's news comes back to it with the client's own ids. When the client goes away, its queued
 * chunks are dropped and its workers forget its jobs; chunks already running finish, unheard.
 *
 * <p>Threading: client messages arrive on one gRPC thread at a time; news from the scheduler
 * arrives on any thread, so writes to the client are serialised on {@code out}. Nothing here
 * blocks.
 */
final class ClientSession implements StreamObserver<ClientMessage> {
  private static final Logger log = LoggerFactory.getLogger(ClientSession.class);

  private final StreamObserver<ServerMessage> out;
  private final RelayedJobs relayed;
  private final ClusterFleet fleet;
  private final String fingerprint;
  private final int maxMessageBytes;
  private final String id;
  private final Consumer<ClientSession> ended;
  private final java.util.function.Supplier<NoWorkers> noWorkersNow;
  private final Map<Long, ChunkBackend.JobRef> jobs = new ConcurrentHashMap<>();
  private final Map<Long, ChunkBackend.ChunkTicket> chunks = new ConcurrentHashMap<>();

  @SuppressWarnings("UnnecessaryLambda") // one object, so that unwatch finds what watch added
  private final Consumer<FleetChanged> fleetWatcher =
      change -> send(ServerMessage.newBuilder().setFleet(change).build());

  private volatile boolean welcomed;

  /**
   * Client job ids only grow: one at or below this and not open was closed. Client's thread only.
   */
  private long lastJobId;

  private volatile boolean closed;

  /** Where it called from, as the secret check that let it in saw it. */
  private final Peer peer = Peer.current();

  private String who = "a client from " + peer;
  private String client = String.valueOf(peer.address()); // as those watching see it

  ClientSession(
      StreamObserver<ServerMessage> out,
      RelayedJobs relayed,
      ClusterFleet fleet,
      String fingerprint,
      int maxMessageBytes,
      String id,
      Consumer<ClientSession> ended,
      java.util.function.Supplier<NoWorkers> noWorkersNow) {
    this.out = out;
    this.relayed = relayed;
    this.fleet = fleet;
    this.fingerprint = fingerprint;
    this.maxMessageBytes = maxMessageBytes;
    this.id = id;
    this.ended = ended;
    this.noWorkersNow = noWorkersNow;
  }

  /**
   * A client's cancel: answered once the scheduler knows, which for a chunk waiting in a worker's
   * queue takes a round trip to that worker; the network thread never waits for it.
   */
  private void cancel(io.flotilla.proto.Cancel cancel) {
    long chunkId = cancel.getChunkId();
    ChunkBackend.ChunkTicket ticket = chunks.get(chunkId);
    java.util.concurrent.CompletableFuture<Boolean> decided =
        ticket == null
            ? java.util.concurrent.CompletableFuture.completedFuture(false)
            : cancel.getAbort()
                ? java.util.concurrent.CompletableFuture.completedFuture(ticket.abort())
                : ticket.withdraw();
    var unused =
        decided.thenAccept(
            cancelled -> {
              int delivered = ticket == null ? 0 : ticket.delivered();
              if (cancelled) {
                chunks.remove(chunkId);
              }
              send(
                  ServerMessage.newBuilder()
                      .setCancelReply(
                          CancelReply.newBuilder()
                              .setRequestId(cancel.getRequestId())
                              .setCancelled(cancelled)
                              .setDelivered(delivered))
                      .build());
            });
  }

  @Override
  public void onNext(ClientMessage message) {
    if (!welcomed && message.getKindCase() != ClientMessage.KindCase.HELLO) {
      refuse("the first message must be ClientHello, got " + message.getKindCase());
      return;
    }
    switch (message.getKindCase()) {
      case HELLO -> hello(message.getHello());
      case OPEN_JOB -> open(message.getOpenJob());
      case SUBMIT -> submit(message.getSubmit());
      case CANCEL -> cancel(message.getCancel());
      case YIELD_CHUNK -> {
        ChunkBackend.ChunkTicket ticket = chunks.get(message.getYieldChunk().getChunkId());
        if (ticket != null) {
          ticket.requestYield();
        }
      }
      case CLOSE_JOB -> {
        ChunkBackend.JobRef job = jobs.remove(message.getCloseJob().getJobId());
        if (job != null) {
          relayed.close(job);
        }
      }
      default -> refuse("unknown message " + message.getKindCase());
    }
  }

  private void hello(ClientHello hello) {
    if (welcomed) {
      refuse("ClientHello sent twice");
      return;
    }
    String problem = Handshake.client(hello, fingerprint);
    if (problem != null) {
      refuse(problem);
      return;
    }
    who = "client " + hello.getHost() + " pid " + hello.getPid() + " from " + peer;
    client = hello.getHost() + " pid " + hello.getPid();
    log.info("{} connected as session {}", who, id);
    welcomed = true;
    FleetChanged now = fleet.now();
    send(
        ServerMessage.newBuilder()
            .setWelcome(
                ClientWelcome.newBuilder()
                    .setSessionId(id)
                    .setThreads(now.getThreads())
                    .setWorkers(now.getWorkers())
                    .setMaxMessageBytes(maxMessageBytes))
            .build());
    fleet.watch(fleetWatcher);
    // A wait for workers under way holds its work up too: it is told at once.
    NoWorkers waiting = noWorkersNow.get();
    if (waiting != null) {
      noWorkers(waiting);
    }
  }

  /** Chunks wait with no worker ready, or have stopped waiting: any thread; never blocks. */
  void noWorkers(NoWorkers news) {
    if (welcomed) {
      send(ServerMessage.newBuilder().setNoWorkers(news).build());
    }
  }

  private void open(OpenJob job) {
    if (job.getJobId() <= lastJobId) {
      refuse("job " + job.getJobId() + " opened twice, or out of order");
      return;
    }
    lastJobId = job.getJobId();
    JobLabel label =
        job.getCalls()
            ? JobLabel.TASKS
            : new JobLabel(
                job.getFunctionName().isEmpty() ? "function" : job.getFunctionName(),
                "map",
                job.getExpectedItems() > 0 ? job.getExpectedItems() : -1);
    jobs.put(
        job.getJobId(),
        relayed.open(
            job.getCalls() ? null : job.getFunction(), job.getBundlesList(), client, label));
  }

  private void submit(Submit submit) {
    long clientJob = submit.getChunk().getJobId();
    long clientChunk = submit.getChunk().getChunkId();
    ChunkBackend.JobRef job = jobs.get(clientJob);
    if (job == null && clientJob > 0 && clientJob <= lastJobId) {
      // The client closed the job while this chunk (the rest of one that yielded) was on its way.
      send(
          ServerMessage.newBuilder()
              .setFailed(
                  ChunkFailed.newBuilder()
                      .setChunkId(clientChunk)
                      .setError(
                          RemoteErrors.capture(
                              new java.util.concurrent.CancellationException(
                                  "its map was closed"))))
              .build());
      return;
    }
    if (job == null) {
      refuse("chunk " + clientChunk + " names job " + clientJob + ", which was never opened");
      return;
    }
    ChunkBackend.Start start =
        switch (submit.getStart()) {
          case CHUNK_START_RESUMED -> ChunkBackend.Start.RESUMED;
          case CHUNK_START_CONTINUED -> ChunkBackend.Start.CONTINUED;
          case CHUNK_START_SUSPECT -> ChunkBackend.Start.SUSPECT;
          default -> ChunkBackend.Start.FRESH;
        };
    // A task's chunk has first index -1.
    long firstIndex = submit.getChunk().getFirstIndex();
    java.util.concurrent.atomic.AtomicBoolean over =
        new java.util.concurrent.atomic.AtomicBoolean();
    RelayedJobs.Relay relay =
        new RelayedJobs.Relay() {
          @Override
          public void result(ChunkResult result, WorkerRef worker, int base) {
            if (!result.getPartial()) {
              over.set(true);
              chunks.remove(clientChunk);
            }
            send(
                ServerMessage.newBuilder()
                    .setRelayed(
                        Relayed.newBuilder()
                            .setResult(
                                result.toBuilder().setJobId(clientJob).setChunkId(clientChunk))
                            .setBase(base)
                            .setWorker(worker))
                    .build());
          }

          @Override
          public void failed(Throwable error, int base) {
            over.set(true);
            chunks.remove(clientChunk);
            ChunkFailed.Builder failed =
                ChunkFailed.newBuilder()
                    .setChunkId(clientChunk)
                    .setBase(base)
                    .setError(RemoteErrors.capture(error));
            if (error instanceof io.flotilla.WorkerCrashedException crash) {
              failed.setCrash(crashOf(crash));
            }
            send(ServerMessage.newBuilder().setFailed(failed).build());
          }

          @Override
          public void suspect(WorkerRef worker, int base) {
            over.set(true);
            chunks.remove(clientChunk);
            send(
                ServerMessage.newBuilder()
                    .setSuspect(
                        ChunkSuspect.newBuilder()
                            .setChunkId(clientChunk)
                            .setBase(base)
                            .setWorker(worker))
                    .build());
          }
        };
    ChunkBackend.ChunkTicket ticket =
        relayed.submit(job, firstIndex, submit.getChunk().getItems(), start, relay);
    chunks.put(clientChunk, ticket);
    // A worker may have answered before the ticket was filed: then nothing else will remove it.
    if (over.get()) {
      chunks.remove(clientChunk, ticket);
    }
  }

  private void send(ServerMessage message) {
    if (closed) {
      return;
    }
    synchronized (out) {
      try {
        out.onNext(message);
      } catch (RuntimeException gone) {
        // the client went away; onError/onCompleted will clean up
      }
    }
  }

  private void refuse(String reason) {
    log.warn("refusing {}: {}", who, reason);
    synchronized (out) {
      try {
        out.onNext(
            ServerMessage.newBuilder().setRefusal(Refusal.newBuilder().setReason(reason)).build());
        out.onError(Status.INVALID_ARGUMENT.withDescription(reason).asRuntimeException());
      } catch (RuntimeException gone) {
        // already closed
      }
    }
    end();
  }

  @Override
  public void onError(Throwable t) {
    log.info("{} gone: {}", who, Status.fromThrowable(t));
    end();
  }

  @Override
  public void onCompleted() {
    log.info("{} disconnected", who);
    end();
    synchronized (out) {
      try {
        out.onCompleted();
      } catch (RuntimeException gone) {
        // already closed
      }
    }
  }

  /**
   * The coordinator is stopping, as it was asked to: the client is told so in words, rather than
   * find its stream broken, and what it left queued is dropped.
   */
  void coordinatorStopping() {
    synchronized (out) {
      try {
        out.onError(
            Status.UNAVAILABLE.withDescription("the coordinator is stopping").asRuntimeException());
      } catch (RuntimeException gone) {
        // already closed
      }
    }
    end();
  }

  /** Drops what the client left queued: nobody will read its results. */
  private void end() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    ended.accept(this);
    fleet.unwatch(fleetWatcher);
    for (ChunkBackend.ChunkTicket ticket : chunks.values()) {
      ticket.cancelIfNotStarted();
    }
    chunks.clear();
    for (ChunkBackend.JobRef job : jobs.values()) {
      relayed.close(job);
    }
    jobs.clear();
  }

  /** A crash as its fields, so that the client rebuilds the exception itself, not only its text. */
  private static io.flotilla.proto.WorkerCrash crashOf(io.flotilla.WorkerCrashedException crash) {
    io.flotilla.proto.WorkerCrash.Builder b =
        io.flotilla.proto.WorkerCrash.newBuilder()
            .setWorkerId(crash.workerId())
            .setPid(crash.pid())
            .setHost(crash.host())
            .setStderrTail(crash.stderrTail() == null ? "" : crash.stderrTail())
            .setAttempts(crash.attempts())
            .setItemIndex(crash.itemIndex())
            .setHow(crash.how() == null ? "" : crash.how());
    if (crash.exitCode() != null) {
      b.setExitCode(crash.exitCode());
    }
    return b.build();
  }
}
