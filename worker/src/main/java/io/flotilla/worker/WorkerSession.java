package io.flotilla.worker;

import io.flotilla.SerializableRunnable;
import io.flotilla.code.CodeCache;
import io.flotilla.codec.Codec;
import io.flotilla.codec.RemoteErrors;
import io.flotilla.proto.CoordinatorMessage;
import io.flotilla.proto.Hello;
import io.flotilla.proto.InitializerFailed;
import io.flotilla.proto.Ready;
import io.flotilla.proto.Welcome;
import io.flotilla.proto.WorkerLinkGrpc;
import io.flotilla.proto.WorkerMessage;
import io.grpc.Status;
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
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One worker's conversation with its coordinator over a single Attach stream; see the package
 * documentation for the data flow.
 *
 * <p>Threading: gRPC delivers coordinator messages on one callback thread at a time; this class never
 * blocks it. Chunks and the initializer run on the run threads. {@link #send} may be called from any
 * thread and serialises access to the outbound stream, which is not thread-safe.
 */
final class WorkerSession implements StreamObserver<CoordinatorMessage> {
  /** Exit codes a launcher can tell apart. */
  static final int EXIT_OK = 0;
  static final int EXIT_REFUSED = 64;
  static final int EXIT_INITIALIZER_FAILED = 65;
  static final int EXIT_COORDINATOR_LOST = 66;

  /**
   * Credit beyond one chunk per run thread: the most chunks the coordinator may queue here. It queues
   * that deep only while this worker's chunks are tiny and few bytes (see the scheduler), so that a
   * stream of small tasks keeps the run threads busy without a round trip per task; otherwise it sends
   * one chunk beyond each run thread, and takes queued chunks back for an idle worker.
   */
  private static final int PREFETCH = 8;

  private final WorkerOptions options;
  private final Codec codec;
  private final JobFunction.CodeSource code;
  private final ThreadPoolExecutor runners;
  private final Map<Long, JobFunction> functions = new ConcurrentHashMap<>();
  private final Map<Long, ChunkRun> active = new ConcurrentHashMap<>();
  private final CompletableFuture<Integer> exit = new CompletableFuture<>();
  private volatile long maxResultBytes = Integer.MAX_VALUE;
  private volatile List<Class<?>> retryOn = List.of();
  private volatile int maxAttempts = 1;
  private volatile long recycleAboveHeapBytes;
  private StreamObserver<WorkerMessage> out; // guarded by this

  private volatile int lastPieceBytes = 1024;

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
                    .setClusterAddress(options.clusterAddress()))
            .build());
  }

  /** @return the exit code, once the session is over */
  int awaitExit() {
    return exit.join();
  }

  Codec codec() {
    return codec;
  }


  /** @return the size of the last piece of results written, a good first buffer for the next */
  int expectedPieceBytes() {
    return lastPieceBytes;
  }

  void pieceWritten(int bytes) {
    // A piece ends past SLICE_BYTES by the one value that crossed the line: leave room for some of that.
    lastPieceBytes = (int) Math.min(bytes + bytes / 4 + 256, ChunkRun.SLICE_BYTES + (1L << 20));
  }

  long maxResultBytes() {
    return maxResultBytes;
  }

  /** A chunk is answered: a Yield for it from now on is late, and ignored. */
  void chunkAnswered(long chunkId) {
    active.remove(chunkId);
  }

  JobFunction function(long jobId) {
    return functions.get(jobId);
  }

  synchronized void send(WorkerMessage message) {
    if (exit.isDone()) {
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
        String problem = incompatible(message.getWelcome());
        if (problem != null) {
          System.err.println("flotilla worker refuses its coordinator: " + problem);
          finish(EXIT_REFUSED);
        } else {
          runners.execute(() -> initialize(message.getWelcome()));
        }
      }
      case REFUSAL -> {
        System.err.println("flotilla worker refused by coordinator: " + message.getRefusal().getReason());
        finish(EXIT_REFUSED);
      }
      case DEFINE_JOB ->
          functions.put(message.getDefineJob().getJobId(), new JobFunction(message.getDefineJob(), code));
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
            // Still waiting behind another chunk: hand it all back now, for the idle worker to take.
            run.handBackUnstarted();
          } else {
            run.requestYield();
          }
        }
      }
      case STOP -> finish(EXIT_OK);
      default ->
          System.err.println("flotilla worker ignoring unknown message " + message.getKindCase());
    }
  }

  private String incompatible(Welcome welcome) {
    if (welcome.getProtocolVersion() != Codec.PROTOCOL_VERSION) {
      return "coordinator speaks protocol version "
          + welcome.getProtocolVersion()
          + ", this worker speaks "
          + Codec.PROTOCOL_VERSION;
    }
    if (!welcome.getCodecFingerprint().equals(codec.fingerprint())) {
      return "coordinator's serializer fingerprint "
          + welcome.getCodecFingerprint()
          + " differs from this worker's "
          + codec.fingerprint()
          + " (different Kryo version or registrations)";
    }
    return null;
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
   * @return whether the heap still in use after the last collection is above the recycling limit: what
   *     survives a collection is what the worker keeps (caches, leaks), not garbage on its way out
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
        System.err.println("flotilla worker: cannot retry on " + name + ", no such class here: " + e);
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
                .setInitializerFailed(InitializerFailed.newBuilder().setError(RemoteErrors.capture(e)))
                .build());
        finish(EXIT_INITIALIZER_FAILED);
        return;
      }
    }
    send(
        WorkerMessage.newBuilder()
            .setReady(Ready.newBuilder().setCredits(options.threads() + PREFETCH))
            .build());
  }

  @Override
  public void onError(Throwable error) {
    if (exit.isDone()) {
      // Our own channel closing after Stop: not news.
      return;
    }
    System.err.println(
        "flotilla worker " + options.workerId() + ": lost its coordinator: " + Status.fromThrowable(error));
    finish(EXIT_COORDINATOR_LOST);
  }

  @Override
  public void onCompleted() {
    finish(EXIT_OK);
  }

  /**
   * Ends the session from outside, as if the coordinator had gone: its cluster downed this worker.
   *
   * @param code the exit code
   */
  void end(int code) {
    finish(code);
  }

  private void finish(int code) {
    synchronized (this) {
      if (exit.isDone()) {
        return;
      }
      try {
        out.onCompleted();
      } catch (RuntimeException ignored) {
        // the stream may already be gone; we are leaving either way
      }
      exit.complete(code);
    }
  }
}
