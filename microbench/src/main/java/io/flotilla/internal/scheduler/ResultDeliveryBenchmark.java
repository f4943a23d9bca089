package io.flotilla.internal.scheduler;

import io.flotilla.internal.codec.Codec;
import io.flotilla.internal.map.ArrayOutcome;
import io.flotilla.internal.map.ChunkOutcome;
import io.flotilla.internal.map.TaskFuture;
import io.flotilla.proto.ChunkResult;
import io.flotilla.proto.CoordinatorMessage;
import io.flotilla.proto.ItemBatch;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The caller's side of a result, once the scheduler has matched it to its chunk: {@link
 * RemoteOutcome} decoding a {@link ChunkResult}'s values as {@code MapRun.next()} reads them
 * (error, then value, item by item), and a submitted task's {@link TaskFuture} receiving its
 * one-item outcome with {@link TaskFuture#deliver} and yielding it from {@code get()}.
 *
 * <p>Why: decoding is the per-item cost the consumer of a map pays for every result, on its own
 * thread; the future is on the path of every {@code submit(...).get()} round trip. Comparing {@link
 * #decodeChunkResult} with {@code CodecBenchmark.decodeIntegers1k} shows what the outcome adds over
 * the bare codec.
 *
 * <p>No thread is crossed: {@code deliver} is given a direct executor where the pool gives its
 * callback executor, and nobody is blocked in {@code get()}, so the future is already complete when
 * it is read. The wake-up of a blocked caller, which costs far more than any of this, is the
 * end-to-end round-trip benchmark's business ({@code flotilla bench}), not this one's.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
// A small, fixed heap: see the package documentation of io.flotilla.microbench.
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms256m", "-Xmx256m"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 4, time = 1)
@State(Scope.Thread)
public class ResultDeliveryBenchmark {
  private static final int CHUNK = 1_000;
  private static final Executor DIRECT = Runnable::run;

  private Codec codec;
  private ClassLoader loader;
  private WorkerHandle worker;
  private ChunkResult chunkResult;
  private ChunkResult taskResult;
  private ChunkOutcome taskOutcome;

  /** Encodes the results once, as a worker would have: 1,000 boxed Integers, and one for a task. */
  @Setup
  public void setUp() {
    loader = ResultDeliveryBenchmark.class.getClassLoader();
    codec = new Codec(loader);
    worker = new WorkerHandle("w1", 1, "bench", 1, 2, new DiscardingStream());
    ItemBatch values;
    try (Codec.BatchWriter writer = codec.newBatch()) {
      for (int i = 0; i < CHUNK; i++) {
        writer.add(1_000_000 + i);
      }
      values = writer.finish();
    }
    chunkResult = ChunkResult.newBuilder().setChunkId(1).setAttempt(1).setValues(values).build();
    ItemBatch one;
    try (Codec.BatchWriter writer = codec.newBatch()) {
      writer.add(361);
      one = writer.finish();
    }
    taskResult = ChunkResult.newBuilder().setChunkId(2).setAttempt(1).setValues(one).build();
    taskOutcome = new ArrayOutcome(new Object[] {361}, null, -1);
  }

  /**
   * Never sent to: a {@link WorkerHandle} needs a stream, and only failures would name the worker.
   */
  private static final class DiscardingStream implements StreamObserver<CoordinatorMessage> {
    @Override
    public void onNext(CoordinatorMessage message) {}

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}
  }

  /**
   * A map chunk's 1,000 results read from a fresh {@link RemoteOutcome}, per item.
   *
   * @param sink takes each value
   */
  @Benchmark
  @OperationsPerInvocation(CHUNK)
  public void decodeChunkResult(Blackhole sink) {
    RemoteOutcome outcome =
        new RemoteOutcome(chunkResult, worker.ref, 0, 0, null, codec, loader, false);
    int n = outcome.size();
    for (int i = 0; i < n; i++) {
      Throwable error = outcome.error(i);
      if (error != null) {
        throw new IllegalStateException("item " + i + " failed", error);
      }
      sink.consume(outcome.value(i));
    }
  }

  /**
   * A task's outcome, already decoded, delivered to a fresh future and read back.
   *
   * @return the value
   */
  @Benchmark
  public Object deliverAndGet() throws InterruptedException, ExecutionException {
    TaskFuture<Object> future = new TaskFuture<>();
    future.deliver(taskOutcome, DIRECT);
    return future.get();
  }

  /**
   * A task's result as it arrives from a worker: wrapped in a {@link RemoteOutcome}, delivered to a
   * fresh future, decoded when the future completes, and read back.
   *
   * @return the value
   */
  @Benchmark
  public Object decodeDeliverAndGet() throws InterruptedException, ExecutionException {
    TaskFuture<Object> future = new TaskFuture<>();
    future.deliver(
        new RemoteOutcome(taskResult, worker.ref, -1, 0, null, codec, loader, false), DIRECT);
    return future.get();
  }
}
