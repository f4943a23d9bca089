package io.flotilla.internal.remote;

import com.google.protobuf.ByteString;
import io.flotilla.BrokenPoolException;
import io.flotilla.SerializableFunction;
import io.flotilla.internal.codec.Codec;
import io.flotilla.internal.codec.RemoteErrors;
import io.flotilla.internal.map.ArrayOutcome;
import io.flotilla.internal.map.ChunkBackend;
import io.flotilla.internal.map.ChunkOutcome;
import io.flotilla.internal.scheduler.EncodedItems;
import io.flotilla.internal.scheduler.RemoteOutcome;
import io.flotilla.proto.Cancel;
import io.flotilla.proto.Chunk;
import io.flotilla.proto.ChunkResult;
import io.flotilla.proto.ChunkStart;
import io.flotilla.proto.ClientHello;
import io.flotilla.proto.ClientLinkGrpc;
import io.flotilla.proto.ClientMessage;
import io.flotilla.proto.ClientWelcome;
import io.flotilla.proto.CloseJob;
import io.flotilla.proto.OpenJob;
import io.flotilla.proto.ServerMessage;
import io.flotilla.proto.Submit;
import io.flotilla.proto.WorkerRef;
import io.flotilla.proto.YieldChunk;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs chunks on a coordinator server's workers, over one Session stream: the client side of {@code
 * ProcessPool.connect}. Chunking, the window and reordering stay in this JVM, as with a local pool;
 * the coordinator queues the chunks with other clients' and relays each outcome back.
 *
 * <p>Threading: the stream's messages arrive on a gRPC thread, which answers cancellations at once
 * and hands everything else, in order, to one delivery thread that calls the chunks' callbacks. A
 * caller may then wait for a cancellation's answer while holding a lock that the delivery thread
 * wants (the map does, when it closes) without the two waiting on each other. Writes to the stream
 * are serialised.
 */
public final class ClientLinkBackend implements ChunkBackend {
  private static final Logger log = LoggerFactory.getLogger(ClientLinkBackend.class);

  /**
   * Longest a cancellation waits for the coordinator's answer before it counts as not cancelled.
   */
  private static final long CANCEL_WAIT_SECONDS = 30;

  private final Codec codec;
  private final ClassLoader loader;
  private final List<String> bundles;
  private final String coordinator;
  private final Consumer<BrokenPoolException> onLost;
  private final AtomicLong jobIds = new AtomicLong();
  private final AtomicLong chunkIds = new AtomicLong();
  private final AtomicLong requestIds = new AtomicLong();
  private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
  private final Map<Long, CompletableFuture<io.flotilla.proto.CancelReply>> cancels =
      new ConcurrentHashMap<>();
  private final CompletableFuture<ClientWelcome> welcome = new CompletableFuture<>();
  private final ExecutorService delivery;
  private final StreamObserver<ClientMessage> out;
  private volatile int threads;
  private volatile int workers;
  private volatile int maxPayloadBytes = 64 << 20;
  private volatile BrokenPoolException lost;
  private volatile boolean closing;
  private volatile Job callJob;

  /** The coordinator said work waits for workers, and has not said the wait is over. */
  private volatile boolean noWorkers;

  private record Job(long id) implements JobRef {}

  /**
   * Opens the session and waits for the coordinator's welcome.
   *
   * @param channel the coordinator
   * @param coordinator its address, for messages
   * @param codec encodes functions and items, decodes values
   * @param loader where result and exception classes are looked up
   * @param bundles the code jobs name (already shipped)
   * @param connectTimeout how long to wait for the welcome
   * @param onLost told once if the coordinator goes away or refuses the session
   * @throws BrokenPoolException naming the reason when the session cannot be opened
   */
  public ClientLinkBackend(
      Channel channel,
      String coordinator,
      Codec codec,
      ClassLoader loader,
      List<String> bundles,
      java.time.Duration connectTimeout,
      Consumer<BrokenPoolException> onLost) {
    this.codec = codec;
    this.loader = loader;
    this.bundles = List.copyOf(bundles);
    this.coordinator = coordinator;
    this.onLost = onLost;
    this.delivery =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "flotilla-client-delivery");
              t.setDaemon(true);
              return t;
            });
    this.out = ClientLinkGrpc.newStub(channel).session(new Inbound());
    send(
        ClientMessage.newBuilder()
            .setHello(
                ClientHello.newBuilder()
                    .setProtocolVersion(Codec.PROTOCOL_VERSION)
                    .setCodecFingerprint(codec.fingerprint())
                    .setHost(io.flotilla.internal.link.HostName.local())
                    .setPid(ProcessHandle.current().pid()))
            .build());
    try {
      ClientWelcome w = welcome.get(connectTimeout.toMillis(), TimeUnit.MILLISECONDS);
      threads = w.getThreads();
      workers = w.getWorkers();
      maxPayloadBytes =
          (int) Math.max(1024, Math.min(Integer.MAX_VALUE, w.getMaxMessageBytes() - 64 * 1024));
    } catch (ExecutionException e) {
      close();
      throw e.getCause() instanceof BrokenPoolException b
          ? b
          : new BrokenPoolException(
              "cannot open a session with " + coordinator + ": " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      close();
      throw new BrokenPoolException(
          "no answer from the coordinator at "
              + coordinator
              + " within "
              + connectTimeout.toSeconds()
              + " s",
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      close();
      throw new BrokenPoolException("interrupted while connecting to " + coordinator, e);
    }
  }

  /**
   * Waits for a cancellation's answer however often the caller is interrupted: giving up early
   * would leave the chunk's fate unknown here. The interrupt is kept for the caller.
   *
   * @return the answer, or {@code null} if none came in time or the session was lost
   */
  private static io.flotilla.proto.CancelReply awaitUninterruptibly(
      CompletableFuture<io.flotilla.proto.CancelReply> reply) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CANCEL_WAIT_SECONDS);
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return reply.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (ExecutionException | TimeoutException e) {
          return null;
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * @return worker JVMs in the cluster now
   */
  public int workers() {
    return workers;
  }

  @Override
  public int parallelism() {
    return Math.max(1, threads);
  }

  @Override
  public JobRef openJob(SerializableFunction<?, ?> fn) {
    return openJob(
        fn,
        () ->
            new io.flotilla.internal.map.JobLabel(
                io.flotilla.internal.map.JobLabel.nameOf(fn), "map", -1));
  }

  /** The coordinator always shows its jobs: the label goes with every job opened there. */
  @Override
  public JobRef openJob(
      SerializableFunction<?, ?> fn,
      java.util.function.Supplier<io.flotilla.internal.map.JobLabel> labelled) {
    io.flotilla.internal.map.JobLabel label = labelled.get();
    ByteString function = EncodedItems.function(codec, fn, maxPayloadBytes);
    return open(
        OpenJob.newBuilder()
            .setFunction(function)
            .setFunctionName(label.function())
            .setExpectedItems(Math.max(0, label.expectedItems())));
  }

  @Override
  public synchronized JobRef callJob() {
    if (callJob == null) {
      callJob = open(OpenJob.newBuilder().setCalls(true));
    }
    return callJob;
  }

  /**
   * Opens a job on the coordinator: its code is this client's. Ids are taken and sent under the
   * stream's lock, so that they reach the coordinator in increasing order, which is how it tells a
   * job closed from one never opened.
   */
  private Job open(OpenJob.Builder job) {
    synchronized (out) {
      Job opened = new Job(jobIds.incrementAndGet());
      send(
          ClientMessage.newBuilder()
              .setOpenJob(job.setJobId(opened.id()).addAllBundles(bundles))
              .build());
      return opened;
    }
  }

  @Override
  public ChunkTicket run(
      JobRef job, long firstIndex, List<?> items, Start start, Consumer<ChunkOutcome> done) {
    int n = items.size();
    EncodedItems encoded = EncodedItems.encode(codec, items, firstIndex, maxPayloadBytes);
    if (encoded.allFailed()) {
      done.accept(new ArrayOutcome(new Object[n], encoded.localFailures(), -1));
      return () -> false;
    }
    Pending p =
        new Pending(chunkIds.incrementAndGet(), firstIndex, n, encoded.localFailures(), done);
    pending.put(p.id, p);
    BrokenPoolException gone = lost;
    if (gone != null) {
      p.lose(gone);
      return p;
    }
    send(
        ClientMessage.newBuilder()
            .setSubmit(
                Submit.newBuilder()
                    .setChunk(
                        Chunk.newBuilder()
                            .setJobId(((Job) job).id())
                            .setChunkId(p.id)
                            .setFirstIndex(firstIndex)
                            .setItems(encoded.batch()))
                    .setStart(
                        switch (start) {
                          case FRESH -> ChunkStart.CHUNK_START_FRESH;
                          case RESUMED -> ChunkStart.CHUNK_START_RESUMED;
                          case CONTINUED -> ChunkStart.CHUNK_START_CONTINUED;
                          case SUSPECT -> ChunkStart.CHUNK_START_SUSPECT;
                        }))
            .build());
    return p;
  }

  @Override
  public void closeJob(JobRef job) {
    if (lost == null) {
      send(
          ClientMessage.newBuilder()
              .setCloseJob(CloseJob.newBuilder().setJobId(((Job) job).id()))
              .build());
    }
  }

  /** Ends the session: the coordinator drops whatever this client left queued. */
  public void close() {
    closing = true;
    synchronized (out) {
      try {
        out.onCompleted();
      } catch (RuntimeException alreadyClosed) {
        // the stream ended first
      }
    }
    delivery.shutdown();
  }

  private void send(ClientMessage message) {
    synchronized (out) {
      try {
        out.onNext(message);
      } catch (RuntimeException closed) {
        // the stream failed: Inbound.onError fails what is outstanding
      }
    }
  }

  /** A chunk sent and not yet finished. */
  private final class Pending implements ChunkTicket {
    final long id;
    final long firstIndex;
    final int size;
    final Throwable[] localFailures;
    final Consumer<ChunkOutcome> done;
    private int delivered; // guarded by this
    private boolean finished; // guarded by this

    Pending(
        long id,
        long firstIndex,
        int size,
        Throwable[] localFailures,
        Consumer<ChunkOutcome> done) {
      this.id = id;
      this.firstIndex = firstIndex;
      this.size = size;
      this.localFailures = localFailures;
      this.done = done;
    }

    /** Called on the delivery thread only. */
    void deliver(ChunkOutcome outcome, boolean last) {
      synchronized (this) {
        if (finished) {
          return;
        }
        if (last) {
          finished = true;
          pending.remove(id);
        } else {
          // Counted before the callback runs: a cancel decided meanwhile leaves these items
          // answered.
          delivered += outcome.size();
        }
      }
      done.accept(outcome);
    }

    void lose(BrokenPoolException why) {
      fail(why);
    }

    /**
     * Ends the chunk, its unanswered items failing with {@code why}, unless it has ended already.
     */
    private void fail(Throwable why) {
      int base;
      synchronized (this) {
        if (finished) {
          return;
        }
        finished = true;
        base = delivered;
        pending.remove(id);
      }
      done.accept(ChunkOutcome.failed(size - base, why, base));
    }

    @Override
    public synchronized int delivered() {
      return delivered;
    }

    @Override
    public boolean cancelIfNotStarted() {
      return cancel(false);
    }

    @Override
    public boolean abort() {
      return cancel(true);
    }

    private boolean cancel(boolean abort) {
      synchronized (this) {
        if (finished || lost != null) {
          return false;
        }
      }
      long request = requestIds.incrementAndGet();
      CompletableFuture<io.flotilla.proto.CancelReply> reply = new CompletableFuture<>();
      cancels.put(request, reply);
      send(
          ClientMessage.newBuilder()
              .setCancel(Cancel.newBuilder().setRequestId(request).setChunkId(id).setAbort(abort))
              .build());
      io.flotilla.proto.CancelReply answer = awaitUninterruptibly(reply);
      if (answer == null) {
        // No answer in time, yet the coordinator may still cancel it: a late yes ends the chunk
        // here as
        // cancelled, after whatever was relayed before it, so that nothing waits for an outcome
        // that
        // will never come.
        var unused =
            reply.thenAccept(
                late -> {
                  cancels.remove(request);
                  if (late.getCancelled()) {
                    delivery.execute(this::cancelledLate);
                  }
                });
        return false;
      }
      cancels.remove(request);
      if (!answer.getCancelled()) {
        return false;
      }
      synchronized (this) {
        if (finished) {
          // The session was lost meanwhile, and the chunk has had its outcome.
          return false;
        }
        // Pieces relayed before the coordinator cancelled it, and not yet delivered here, are
        // dropped
        // with it: the caller counts their items as cancelled ({@link #delivered()} says where they
        // start), so that no callback follows a successful cancel and nobody waits for one.
        finished = true;
        pending.remove(id);
      }
      return true;
    }

    /** The coordinator cancelled this chunk after its caller stopped waiting for the answer. */
    private void cancelledLate() {
      fail(new CancellationException("cancelled"));
    }

    @Override
    public void requestYield() {
      if (lost == null) {
        send(
            ClientMessage.newBuilder()
                .setYieldChunk(YieldChunk.newBuilder().setChunkId(id))
                .build());
      }
    }
  }

  private final class Inbound implements StreamObserver<ServerMessage> {
    @Override
    public void onNext(ServerMessage message) {
      switch (message.getKindCase()) {
        case CANCEL_REPLY -> {
          CompletableFuture<io.flotilla.proto.CancelReply> reply =
              cancels.get(message.getCancelReply().getRequestId());
          if (reply != null) {
            reply.complete(message.getCancelReply());
          }
        }
        case WELCOME -> welcome.complete(message.getWelcome());
        case FLEET -> {
          threads = message.getFleet().getThreads();
          workers = message.getFleet().getWorkers();
        }
        case NO_WORKERS -> noWorkers(message.getNoWorkers());
        case REFUSAL ->
            fail(
                new BrokenPoolException(
                    "the coordinator at "
                        + coordinator
                        + " refused this client: "
                        + message.getRefusal().getReason(),
                    null));
        default -> delivery.execute(() -> deliver(message));
      }
    }

    /**
     * Said at once, or a program whose tasks wait for workers that never come hangs unexplained.
     */
    private void noWorkers(io.flotilla.proto.NoWorkers news) {
      if (news.getEnded()) {
        if (noWorkers) {
          log.info("the coordinator at {} no longer waits for workers", coordinator);
        }
        noWorkers = false;
        return;
      }
      noWorkers = true;
      long ms = news.getFailAfterMs();
      log.warn(
          "no workers: {} chunks waiting at the coordinator {}; {}",
          news.getChunksWaiting(),
          coordinator,
          ms == 0
              ? "they wait until a worker joins"
              : "they fail after "
                  + (ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms")
                  + " unless a worker joins");
    }

    private void deliver(ServerMessage message) {
      switch (message.getKindCase()) {
        case RELAYED -> {
          ChunkResult result = message.getRelayed().getResult();
          Pending p = pending.get(result.getChunkId());
          if (p != null) {
            p.deliver(
                new RemoteOutcome(
                    result,
                    message.getRelayed().getWorker(),
                    p.firstIndex,
                    message.getRelayed().getBase(),
                    p.localFailures,
                    codec,
                    loader,
                    false),
                !result.getPartial());
          }
        }
        case FAILED -> {
          Pending p = pending.get(message.getFailed().getChunkId());
          if (p != null) {
            int base = message.getFailed().getBase();
            p.deliver(ChunkOutcome.failed(p.size - base, failure(message.getFailed()), base), true);
          }
        }
        case SUSPECT -> {
          Pending p = pending.get(message.getSuspect().getChunkId());
          if (p != null) {
            WorkerRef worker = message.getSuspect().getWorker();
            p.deliver(
                RemoteOutcome.suspect(
                    worker,
                    p.firstIndex,
                    message.getSuspect().getBase(),
                    p.localFailures,
                    codec,
                    loader),
                true);
          }
        }
        default -> {
          // a newer coordinator's news this client does not know: nothing it asked for
        }
      }
    }

    @Override
    public void onError(Throwable t) {
      Status status = Status.fromThrowable(t);
      String why =
          status.getCode() == Status.Code.UNAUTHENTICATED
              ? "the coordinator at "
                  + coordinator
                  + " refused this client: "
                  + status.getDescription()
              : io.flotilla.internal.link.CoordinatorChannel.isTlsRefusal(status)
                  ? status.getDescription()
                  : "lost the coordinator at "
                      + coordinator
                      + ": "
                      + status.getCode()
                      + (status.getDescription() == null
                          ? ""
                          : " (" + status.getDescription() + ")");
      fail(new BrokenPoolException(why, t));
    }

    @Override
    public void onCompleted() {
      fail(
          new BrokenPoolException(
              "the coordinator at " + coordinator + " ended the session", null));
    }

    private void fail(BrokenPoolException why) {
      if (lost != null || closing) {
        // After close() the stream's end is the answer to ours, and nothing is outstanding.
        return;
      }
      lost = why;
      welcome.completeExceptionally(why);
      for (CompletableFuture<io.flotilla.proto.CancelReply> reply : cancels.values()) {
        reply.completeExceptionally(why);
      }
      // The pool is broken before any future fails, so that code reacting to a failed future sees
      // its next submit refused.
      onLost.accept(why);
      // After the outcomes already queued, so that nothing relayed before the loss is dropped.
      try {
        delivery.execute(
            () -> {
              for (Pending p : List.copyOf(pending.values())) {
                p.lose(why);
              }
            });
      } catch (java.util.concurrent.RejectedExecutionException closing) {
        for (Pending p : List.copyOf(pending.values())) {
          p.lose(why);
        }
      }
    }
  }

  /**
   * The exception a failed chunk carries: a worker crash rebuilt from its fields, with the remote
   * stack; anything else as {@link RemoteErrors} rebuilds it.
   */
  private Throwable failure(io.flotilla.proto.ChunkFailed failed) {
    if (!failed.hasCrash()) {
      return RemoteErrors.rebuild(failed.getError(), loader);
    }
    io.flotilla.proto.WorkerCrash c = failed.getCrash();
    io.flotilla.WorkerCrashedException crash =
        new io.flotilla.WorkerCrashedException(
            c.getWorkerId(),
            c.getPid(),
            c.getHost(),
            c.hasExitCode() ? c.getExitCode() : null,
            c.getStderrTail(),
            c.getAttempts(),
            c.getItemIndex(),
            c.getHow());
    crash.setStackTrace(RemoteErrors.rebuild(failed.getError(), loader).getStackTrace());
    return crash;
  }
}
