package io.flotilla.internal.scheduler;

import com.google.protobuf.ByteString;
import io.flotilla.internal.map.JobLabel;
import io.flotilla.internal.metrics.PoolMetrics;
import io.flotilla.microbench.WatchBenchmark;
import io.flotilla.proto.ChunkResult;
import io.flotilla.proto.CoordinatorMessage;
import io.flotilla.proto.ItemBatch;
import io.grpc.stub.StreamObserver;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Chunk dispatches per second through {@link ChunkScheduler} on one thread: a {@link
 * ScheduledChunk} is submitted, dispatched under the scheduler's lock to a {@link WorkerHandle}
 * with credit (which builds and sends its {@code Chunk} message), and its {@link ChunkResult} is
 * taken back with {@link ChunkScheduler#result}, which returns the credit, settles the chunk and
 * calls its callback. One operation is one chunk through that whole cycle.
 *
 * <p>Why: every {@code submit} and every map chunk goes through this path twice (out and back),
 * holding the lock that every network thread also takes; the target is 1,000,000 dispatches per
 * second on one core, so that the scheduler is never what limits a pool of trivial tasks.
 *
 * <p>What is left out, deliberately: the network. The workers' streams are in-memory observers that
 * only count what they are sent, results are built once beforehand (in the pool a network thread
 * parses each), and the chunk's callback only counts (in the pool it wraps the result for the
 * consumer, measured by {@link ResultDeliveryBenchmark}). Items are not encoded here (see {@code
 * CodecBenchmark}).
 *
 * <p>{@code watch} sets the scheduler's watcher: {@code none} by default (a local pool without a
 * dashboard); {@code -p watch=none,metrics,dashboard} measures dispatch with the meters, and with
 * the meters and the dashboard's model (a coordinator server, a local pool with a dashboard), side
 * by side: the events the scheduler builds under its lock and tells after it, and what the watchers
 * do with them ({@code WatchBenchmark} measures the watchers alone).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
// A small, fixed heap: see the package documentation of io.flotilla.microbench.
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms256m", "-Xmx256m"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 4, time = 1)
@State(Scope.Thread)
public class DispatchBenchmark {
  /** Chunks submitted at once in {@link #windowOverTwoWorkers}: a map's window over two workers. */
  private static final int BURST = 64;

  /**
   * Distinct chunk ids in use, reused in turn: far more than are ever in flight, and beyond the
   * boxing cache, as real ids are. A power of two, for the mask.
   */
  private static final int IDS = 4096;

  /**
   * A worker's credit: one per run thread plus the one chunk it prefetches ({@code WorkerSession}).
   */
  private static int credits(int threads) {
    return threads + 1;
  }

  /** A worker's end of its stream: counts chunk messages and drops everything. */
  private static final class CountingStream implements StreamObserver<CoordinatorMessage> {
    long chunks;

    @Override
    public void onNext(CoordinatorMessage message) {
      if (message.hasChunk()) {
        chunks++;
      }
    }

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}
  }

  private final CountingStream[] streams = new CountingStream[2];
  private long delivered;
  private final ScheduledChunk.ResultSink onResult = (result, worker, base) -> delivered++;

  private static void failed(Throwable error, int base) {
    throw new IllegalStateException("a chunk failed in a benchmark without failures", error);
  }

  private static void handedBack(WorkerHandle worker, int base) {
    throw new IllegalStateException("a chunk was handed back in a benchmark without deaths");
  }

  /** The scheduler's watcher: none, metrics or dashboard (see {@code WatchBenchmark}). */
  @Param({"none"})
  public String watch;

  private ChunkScheduler scheduler;
  private PoolMetrics meters;
  private WorkerHandle[] workers;
  private ChunkResult[] results;
  private JobSpec mapJob;
  private ItemBatch items;
  private final ArrayDeque<ScheduledChunk> sent = new ArrayDeque<>(BURST);
  private long nextId;

  /**
   * A scheduler with the pool's default attempts and no task timeout, its watcher, and two ready
   * workers with one and two run threads: five chunks of credit in all.
   */
  @Setup(Level.Trial)
  public void setUp() {
    scheduler = new ChunkScheduler(3);
    if (!watch.equals("none")) {
      meters = new PoolMetrics(scheduler);
      scheduler.metrics(WatchBenchmark.watcher(watch, scheduler, meters));
      // The map's job is described, as ProcessBackend does; tasks' job is made when first seen.
      scheduler.describeJob(1, "local", new JobLabel("bench", "map", -1));
    }
    streams[0] = new CountingStream();
    streams[1] = new CountingStream();
    workers =
        new WorkerHandle[] {
          new WorkerHandle("w1", 1, "bench", 1, 2, streams[0]),
          new WorkerHandle("w2", 2, "bench", 2, 2, streams[1])
        };
    mapJob = new JobSpec(1, ByteString.copyFromUtf8("an encoded function"), java.util.List.of());
    items = ItemBatch.newBuilder().setData(ByteString.copyFrom(new byte[1024])).build();
    results = new ChunkResult[IDS];
    for (int i = 0; i < IDS; i++) {
      results[i] = ChunkResult.newBuilder().setChunkId(i).setAttempt(1).setCredits(1).build();
    }
    for (WorkerHandle w : workers) {
      scheduler.workerReady(w, credits(w.threads));
    }
  }

  /** Fails the run if any chunk was sent and not settled, or settled without being sent. */
  @TearDown(Level.Iteration)
  public void check() {
    long sentChunks = streams[0].chunks + streams[1].chunks;
    for (WorkerHandle w : workers) {
      if (w.holdingCount() > 0) {
        throw new IllegalStateException(w + " still holds " + w.holdingCount() + " chunks");
      }
    }
    if (sentChunks != delivered) {
      throw new IllegalStateException(
          sentChunks + " chunks sent but " + delivered + " results delivered");
    }
  }

  /** Shuts the scheduler and the meters down. */
  @TearDown(Level.Trial)
  public void tearDown() {
    if (meters != null) {
      meters.close();
    }
    scheduler.close();
  }

  private ScheduledChunk newChunk(JobSpec job, int size) {
    long id = nextId++ & (IDS - 1);
    return new ScheduledChunk(
        scheduler,
        job,
        id,
        id * size,
        size,
        items,
        onResult,
        DispatchBenchmark::failed,
        DispatchBenchmark::handedBack);
  }

  /**
   * One submitted task at a time, as a loop of {@code submit(...).get()} makes them: submit,
   * dispatch to the worker with the most credit, result.
   */
  @Benchmark
  public void oneChunkInFlight() {
    ScheduledChunk chunk = newChunk(JobSpec.CALL, 1);
    scheduler.submit(chunk, false);
    scheduler.result(chunk.worker, results[(int) chunk.chunkId]);
  }

  /**
   * A map's window of 64 chunks of 1,000 items over the two workers: most chunks wait in the queue
   * and are dispatched by the result that frees a credit, as in a map over more input than the
   * workers can hold; at the end of the burst an idle worker has the other asked to yield, as work
   * stealing does. Per chunk.
   */
  @Benchmark
  @OperationsPerInvocation(BURST)
  public void windowOverTwoWorkers() {
    for (int i = 0; i < BURST; i++) {
      ScheduledChunk chunk = newChunk(mapJob, 1000);
      sent.addLast(chunk);
      scheduler.submit(chunk, false);
    }
    // Dispatch is first in, first out, so the oldest chunk not yet settled is always on a worker.
    ScheduledChunk chunk;
    while ((chunk = sent.pollFirst()) != null) {
      scheduler.result(chunk.worker, results[(int) chunk.chunkId]);
    }
  }
}
