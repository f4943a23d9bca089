package io.flotilla.internal.worker;

import io.flotilla.SerializableRunnable;
import io.flotilla.internal.FlotillaVersion;
import io.flotilla.internal.code.CodeCache;
import io.flotilla.internal.codec.Codec;
import io.flotilla.internal.codec.RemoteErrors;
import io.flotilla.internal.link.Handshake;
import io.flotilla.proto.ChunkRef;
import io.flotilla.proto.CoordinatorMessage;
import io.flotilla.proto.Hello;
import io.flotilla.proto.InitializerFailed;
import io.flotilla.proto.Leaving;
import io.flotilla.proto.Ready;
import io.flotilla.proto.StopReason;
import io.flotilla.proto.Welcome;
import io.flotilla.proto.WorkerLinkGrpc;
import io.flotilla.proto.WorkerMessage;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One worker's conversation with its coordinator over a single Attach stream; see the package
 * documentation for the data flow.
 *
 * <p>Threading: gRPC delivers coordinator messages on one callback thread at a time; this class
 * never blocks it. Chunks and the initializer run on the run threads. {@link #send} may be called
 * from any thread and serialises access to the outbound stream, which is not thread-safe. Once
 * welcomed by a coordinator that asks for them, the session's sampler thread sends a {@link
 * io.flotilla.proto.Sample} of this JVM's resources at once and then once a period, under the same
 * lock; it is stopped when the session ends.
 */
final class WorkerSession implements StreamObserver<CoordinatorMessage> {
  /**
   * How a session ended: the process's exit code ({@link WorkerExit}) and why, in words for its
   * log.
   *
   * @param code the exit code
   * @param why what ended it, e.g. "its coordinator is stopping"
   */
  record Ending(int code, String why) {}

  /**
   * Credit beyond one chunk per run thread: the most chunks the coordinator may queue here. It
   * queues that deep only while this worker's chunks are tiny and few bytes (see the scheduler), so
   * that a stream of small tasks keeps the run threads busy without a round trip per task;
   * otherwise it sends one chunk beyond each run thread, and takes queued chunks back for an idle
   * worker.
   */
  private static final int PREFETCH = 8;

  /**
   * The shortest sampling period a coordinator may ask for: a coordinator asking for less gets
   * this, so that a mistake there cannot turn the samples into a load of their own.
   */
  static final long MIN_SAMPLE_PERIOD_MILLIS = 100;

  private final WorkerOptions options;
  private final Codec codec;
  private final JobFunction.CodeSource code;
  private final ThreadPoolExecutor runners;
  private final Map<Long, JobFunction> functions = new ConcurrentHashMap<>();
  private final Map<Long, ChunkRun> active = new ConcurrentHashMap<>();
  private final CompletableFuture<Ending> exit = new CompletableFuture<>();
  private volatile long maxResultBytes = Integer.MAX_VALUE;
  private volatile List<Class<?>> retryOn = List.of();
  private volatile int maxAttempts = 1;
  private volatile long recycleAboveHeapBytes;
  private StreamObserver<WorkerMessage> out; // guarded by this

  /** Its one thread sends the samples; null until welcomed, shut down when the session ends. */
  private ScheduledThreadPoolExecutor sampler; // guarded by this

  private volatile int lastPieceBytes = 1024;

  /** Run once the worker has told its coordinator it is ready. */
  private volatile Runnable onReady = () -> {};

  /**
   * @param options what the worker was told
   * @param codec the codec of the worker's own classes
   * @param code where shipped code is fetched and kept, or {@code null} if jobs never ship any
   */
  WorkerSession(WorkerOptions options, Codec codec, CodeCache code) {
    this.options = options;
    this.codec = codec;
    this.code =
        new JobFunction.CodeSource() {
          @Override
          public Codec acquire(List<String> bundles) {
            if (bundles.isEmpty()) {
              return codec;
            }
            if (code == null) {
              throw new IllegalStateException(
                  "the job ships code, and this worker was started without a code cache (a local pool's worker)");
            }
            return code.acquire(bundles);
          }

          @Override
          public void release(List<String> bundles) {
            if (code != null && !bundles.isEmpty()) {
              code.release(bundles);
            }
          }
        };
    AtomicInteger n = new AtomicInteger();
    this.runners =
        new ThreadPoolExecutor(
            options.threads(),
            options.threads(),
            0,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            r -> {
              Thread t = new Thread(r, "flotilla-run-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * @param action run once this worker has told its coordinator it is ready for work
   */
  void onReady(Runnable action) {
    this.onReady = action;
  }

  /** Opens the stream and says hello. */
  void start(WorkerLinkGrpc.WorkerLinkStub stub) {
    synchronized (this) {
      out = stub.attach(this);
    }
    send(
        WorkerMessage.newBuilder()
            .setHello(
                Hello.newBuilder()
                    .setProtocolVersion(Codec.PROTOCOL_VERSION)
                    .setCodecFingerprint(codec.fingerprint())
                    .setWorkerId(options.workerId())
                    .setPid(ProcessHandle.current().pid())
                    .setHost(options.host())
                    .setThreads(options.threads())
                    .setCores(Runtime.getRuntime().availableProcessors())
                    .setToken(options.token())
                    .setJavaVersion(Runtime.version().toString())
                    .setFlotillaVersion(FlotillaVersion.get())
                    .setClusterAddress(options.clusterAddress()))
            .build());
  }

  /**
   * @return how the session ended, once it is over
   */
  Ending awaitExit() {
    return exit.join();
  }

  Codec codec() {
    return codec;
  }

  /**
   * @return the size of the last piece of results written, a good first buffer for the next
   */
  int expectedPieceBytes() {
    return lastPieceBytes;
  }

  void pieceWritten(int bytes) {
    // A piece ends past SLICE_BYTES by the one value that crossed the line: leave room for some of
    // that.
    lastPieceBytes = (int) Math.min(bytes + bytes / 4 + 256, ChunkRun.SLICE_BYTES + (1L << 20));
  }

  long maxResultBytes() {
    return maxResultBytes;
  }

  /**
   * A chunk is answered: a Yield for it from now on is late, and ignored. Only this run of it is
   * forgotten: the chunk may have come back under a new attempt while a void run of it finishes.
   */
  void chunkAnswered(long chunkId, ChunkRun run) {
    active.remove(chunkId, run);
  }

  JobFunction function(long jobId) {
    return functions.get(jobId);
  }

  synchronized void send(WorkerMessage message) {
    if (exit.isDone() || out == null) {
      return;
    }
    out.onNext(message);
  }

  void send(io.flotilla.proto.ChunkResult result) {
    send(WorkerMessage.newBuilder().setResult(result).build());
  }

  @Override
  public void onNext(CoordinatorMessage message) {
    switch (message.getKindCase()) {
      case WELCOME -> {
        String problem = Handshake.welcome(message.getWelcome(), codec.fingerprint());
        if (problem != null) {
          finish(WorkerExit.REFUSED, "refuses its coordinator: " + problem);
        } else {
          startSampling(message.getWelcome().getSamplePeriodMillis());
          runners.execute(() -> initialize(message.getWelcome()));
        }
      }
      case REFUSAL ->
          finish(
              WorkerExit.REFUSED,
              "refused by its coordinator: " + message.getRefusal().getReason());
      case DEFINE_JOB ->
          functions.put(
              message.getDefineJob().getJobId(), new JobFunction(message.getDefineJob(), code));
      case CHUNK -> {
        ChunkRun run = new ChunkRun(this, message.getChunk());
        active.put(message.getChunk().getChunkId(), run);
        runners.execute(run);
      }
      case FORGET_JOB -> {
        JobFunction forgotten = functions.remove(message.getForgetJob().getJobId());
        if (forgotten != null) {
          forgotten.forget();
        }
      }
      case YIELD -> {
        ChunkRun run = active.get(message.getYield().getChunkId());
        if (run != null && run.attempt() == message.getYield().getAttempt()) {
          if (runners.remove(run)) {
            // Still waiting behind another chunk: hand it all back now, for the idle worker to
            // take.
            run.handBackUnstarted();
          } else {
            run.requestYield();
          }
        }
      }
      case VOID_CHUNKS -> {
        // This worker was cut off, and its coordinator ran these elsewhere: each is answered once,
        // with its credit and no values, now if it never started, else at its next item.
        for (ChunkRef ref : message.getVoidChunks().getChunksList()) {
          ChunkRun run = active.get(ref.getChunkId());
          if (run != null && run.attempt() == ref.getAttempt()) {
            run.cancelVoid();
            if (runners.remove(run)) {
              run.answerVoid();
            }
          }
        }
      }
      case STOP -> {
        if (message.getStop().getReason() == StopReason.STOP_REASON_COORDINATOR_STOPPING) {
          finish(WorkerExit.STOPPED, "its coordinator is stopping");
        } else {
          finish(
              WorkerExit.RESTART,
              "its coordinator asked for a fresh worker in its place (to stop a task it was running, or to"
                  + " recycle it)");
        }
      }
      default ->
          System.err.println("flotilla worker ignoring unknown message " + message.getKindCase());
    }
  }

  /**
   * @param error what the user's function threw
   * @return whether the pool asked for items failing this way to be run again
   */
  boolean retryable(Throwable error) {
    for (Class<?> type : retryOn) {
      if (type.isInstance(error)) {
        return true;
      }
    }
    return false;
  }

  int maxAttempts() {
    return maxAttempts;
  }

  /**
   * @return whether the heap still in use after the last collection is above the recycling limit:
   *     what survives a collection is what the worker keeps (caches, leaks), not garbage on its way
   *     out
   */
  boolean heavy() {
    long limit = recycleAboveHeapBytes;
    if (limit <= 0) {
      return false;
    }
    long used = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      MemoryUsage afterGc = pool.getType() == MemoryType.HEAP ? pool.getCollectionUsage() : null;
      if (afterGc != null) {
        used += afterGc.getUsed();
      }
    }
    return used > limit;
  }

  private void initialize(Welcome welcome) {
    List<Class<?>> types = new java.util.ArrayList<>();
    for (String name : welcome.getRetryOnList()) {
      try {
        types.add(Class.forName(name, false, Thread.currentThread().getContextClassLoader()));
      } catch (ClassNotFoundException | LinkageError e) {
        System.err.println(
            "flotilla worker: cannot retry on " + name + ", no such class here: " + e);
      }
    }
    retryOn = List.copyOf(types);
    maxAttempts = Math.max(1, welcome.getMaxAttempts());
    recycleAboveHeapBytes = welcome.getRecycleAboveHeapBytes();
    if (welcome.getMaxMessageBytes() > 0) {
      // Leave room for the envelope around the values.
      maxResultBytes = Math.max(1024, welcome.getMaxMessageBytes() - 64 * 1024);
    }
    if (!welcome.getInitializer().isEmpty()) {
      try {
        Object initializer = codec.decode(welcome.getInitializer());
        ((SerializableRunnable) initializer).run();
      } catch (Throwable e) {
        System.err.println("flotilla worker " + options.workerId() + ": initializer failed");
        e.printStackTrace();
        send(
            WorkerMessage.newBuilder()
                .setInitializerFailed(
                    InitializerFailed.newBuilder().setError(RemoteErrors.capture(e)))
                .build());
        finish(WorkerExit.INITIALIZER_FAILED, "its initializer failed");
        return;
      }
    }
    send(
        WorkerMessage.newBuilder()
            .setReady(Ready.newBuilder().setCredits(options.threads() + PREFETCH))
            .build());
    onReady.run();
  }

  /**
   * Starts the sampler thread, if the coordinator asked for samples: one now, then one a period
   * ({@code periodMillis}, at least {@link #MIN_SAMPLE_PERIOD_MILLIS}). Each is taken outside the
   * lock and sent under it, so it waits at most for one other message to be handed to gRPC, and
   * never holds up a result for longer than that.
   */
  private void startSampling(long periodMillis) {
    if (periodMillis <= 0) {
      // A coordinator that keeps no samples: it would only log each as an unknown message.
      return;
    }
    long period = Math.max(MIN_SAMPLE_PERIOD_MILLIS, periodMillis);
    synchronized (this) {
      if (exit.isDone() || sampler != null) {
        return;
      }
      sampler =
          new ScheduledThreadPoolExecutor(
              1,
              r -> {
                Thread t = new Thread(r, "flotilla-sampler");
                t.setDaemon(true);
                return t;
              });
      ScheduledFuture<?> unused =
          sampler.scheduleAtFixedRate(
              new Runnable() {
                /**
                 * Made on the sampler thread, at its first run: looking up the MXBeans loads the
                 * management classes, which should not delay the worker's Ready.
                 */
                private ResourceSampler resources; // only the sampler thread, runs never overlap

                @Override
                public void run() {
                  if (resources == null) {
                    resources = new ResourceSampler();
                  }
                  sendSample(resources);
                }
              },
              0,
              period,
              TimeUnit.MILLISECONDS);
    }
  }

  private void sendSample(ResourceSampler resources) {
    WorkerMessage message;
    try {
      // Taken outside the lock: the sample costs microseconds that a result should not wait out.
      message = WorkerMessage.newBuilder().setSample(resources.sample()).build();
    } catch (RuntimeException e) {
      // An MXBean that fails once may answer next time; a thrown exception would stop the timer.
      return;
    }
    synchronized (this) {
      if (exit.isDone() || out == null) {
        return;
      }
      // Flow control: while gRPC holds back what was sent (results piling up on a slow link), a
      // sample would only queue behind them. Skip it; the next one carries the same totals.
      if (out instanceof ClientCallStreamObserver<?> call && !call.isReady()) {
        return;
      }
      try {
        out.onNext(message);
      } catch (RuntimeException e) {
        // The stream is gone: onError ends the session.
      }
    }
  }

  @Override
  public void onError(Throwable error) {
    if (exit.isDone()) {
      // Our own channel closing after Stop: not news.
      return;
    }
    Status status = Status.fromThrowable(error);
    finish(
        WorkerExit.COORDINATOR_LOST,
        "lost its coordinator: "
            + status.getCode()
            + (status.getDescription() == null ? "" : " (" + status.getDescription() + ")"));
  }

  @Override
  public void onCompleted() {
    // The coordinator says Stop before it closes a stream: one closed without it ended unexplained.
    finish(WorkerExit.COORDINATOR_LOST, "its coordinator closed the stream without a word");
  }

  /**
   * Leaves as this worker was asked to (a signal): the coordinator hears why, runs this worker's
   * chunks elsewhere, and reports a departure rather than a loss.
   *
   * @param why what asked, e.g. "stopping on SIGTERM"
   * @return whether this ended the session; false if it had ended already
   */
  boolean leave(String why) {
    synchronized (this) {
      if (exit.isDone()) {
        return false;
      }
      send(WorkerMessage.newBuilder().setLeaving(Leaving.newBuilder().setReason(why)).build());
      return finish(WorkerExit.STOPPED, why);
    }
  }

  /**
   * Ends the session from outside, as if the coordinator had gone: its cluster downed this worker.
   *
   * @param code the exit code
   * @param why in words
   * @return whether this ended the session; false if it had ended already
   */
  boolean end(int code, String why) {
    return finish(code, why);
  }

  private boolean finish(int code, String why) {
    synchronized (this) {
      if (exit.isDone()) {
        return false;
      }
      if (sampler != null) {
        sampler.shutdownNow();
      }
      try {
        out.onCompleted();
      } catch (RuntimeException ignored) {
        // the stream may already be gone; we are leaving either way
      }
      exit.complete(new Ending(code, why));
      return true;
    }
  }
}
