package io.flotilla.microbench;

import io.flotilla.SerializableCallable;
import io.flotilla.internal.codec.Codec;
import io.flotilla.proto.ItemBatch;
import java.util.ArrayList;
import java.util.List;
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
 * The cost, per item, of turning a chunk into an {@link ItemBatch} and back with {@link Codec}:
 * what the caller pays on its own thread for every fresh chunk of a map ({@code ProcessBackend.run}
 * encodes with {@link Codec.BatchWriter}), what a worker pays before running it, and, in the other
 * direction, what a worker pays for its results and the caller for reading them ({@code
 * RemoteOutcome} decodes with {@link Codec.BatchReader}).
 *
 * <p>Why: for a cheap function this is most of the caller's CPU time per item, so it bounds how
 * many items per second one caller can feed to any number of workers. Two chunk sizes show whether
 * the cost is per item (flat) or per chunk (falling with size). Boxed {@code Integer}s, a typical
 * map input, cost Kryo little beyond the class tag; short {@code String}s are a typical key; a
 * capturing lambda is what every {@code submit} sends, and its encode and decode (Kryo's {@code
 * ClosureSerializer} going through {@code SerializedLambda}) dominate a submitted task's own
 * payload cost.
 *
 * <p>Each score is nanoseconds per item ({@link OperationsPerInvocation}), except {@link
 * #lambdaTaskRoundTrip}, which is per task. The chunk, its batch and the codec are built once; the
 * batch's byte copy and the writer's buffer growth are part of what is measured, as they are per
 * chunk in the pool.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
// The pool's JVMs run with this opening (without it Kryo reaches lambdas by a fallback path), and
// every
// benchmark here with a small, fixed heap: see the package documentation.
@Fork(
    value = 1,
    jvmArgsAppend = {
      "--add-opens",
      "java.base/java.lang.invoke=ALL-UNNAMED",
      "-Xms256m",
      "-Xmx256m"
    })
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 4, time = 1)
@State(Scope.Thread)
public class CodecBenchmark {
  private static final int SMALL = 1_000;
  private static final int LARGE = 10_000;

  /** The limit {@code ProcessBackend} checks each item against under the default 1 GiB messages. */
  private static final long MAX_BATCH_BYTES = (1L << 30) - 64 * 1024;

  private Codec codec;
  private List<Integer> integersSmall;
  private List<Integer> integersLarge;
  private List<String> stringsSmall;
  private ItemBatch integersSmallBatch;
  private ItemBatch integersLargeBatch;
  private ItemBatch stringsSmallBatch;
  private SerializableCallable<Integer> task;

  /** Builds the chunks and encodes them once, so that decoding reads what encoding wrote. */
  @Setup
  public void setUp() {
    codec = new Codec(CodecBenchmark.class.getClassLoader());
    integersSmall = integers(SMALL);
    integersLarge = integers(LARGE);
    stringsSmall = new ArrayList<>(SMALL);
    for (int i = 0; i < SMALL; i++) {
      stringsSmall.add("word-" + i);
    }
    integersSmallBatch = encode(integersSmall);
    integersLargeBatch = encode(integersLarge);
    stringsSmallBatch = encode(stringsSmall);
    task = square(19);
  }

  /** The items of a map over a range: mostly beyond the boxing cache, as real inputs are. */
  private static List<Integer> integers(int n) {
    List<Integer> items = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      items.add(1_000_000 + i);
    }
    return items;
  }

  /** Static, so that the lambda captures the argument alone and not a benchmark instance. */
  private static SerializableCallable<Integer> square(int n) {
    return () -> n * n;
  }

  /**
   * @return 1,000 boxed Integers encoded, per item
   */
  @Benchmark
  @OperationsPerInvocation(SMALL)
  public ItemBatch encodeIntegers1k() {
    return encode(integersSmall);
  }

  /**
   * @return 10,000 boxed Integers encoded, per item
   */
  @Benchmark
  @OperationsPerInvocation(LARGE)
  public ItemBatch encodeIntegers10k() {
    return encode(integersLarge);
  }

  /**
   * @return 1,000 short Strings encoded, per item
   */
  @Benchmark
  @OperationsPerInvocation(SMALL)
  public ItemBatch encodeStrings1k() {
    return encode(stringsSmall);
  }

  /** 1,000 boxed Integers decoded, per item. */
  @Benchmark
  @OperationsPerInvocation(SMALL)
  public void decodeIntegers1k(Blackhole sink) {
    decode(integersSmallBatch, sink);
  }

  /** 10,000 boxed Integers decoded, per item. */
  @Benchmark
  @OperationsPerInvocation(LARGE)
  public void decodeIntegers10k(Blackhole sink) {
    decode(integersLargeBatch, sink);
  }

  /** 1,000 short Strings decoded, per item. */
  @Benchmark
  @OperationsPerInvocation(SMALL)
  public void decodeStrings1k(Blackhole sink) {
    decode(stringsSmallBatch, sink);
  }

  /**
   * One submitted task, encoded as {@code submit} sends it (a batch of one) and decoded as a worker
   * reads it.
   *
   * @return the decoded task
   */
  @Benchmark
  public Object lambdaTaskRoundTrip() {
    ItemBatch batch;
    try (Codec.BatchWriter writer = codec.newBatch()) {
      writer.add(task, MAX_BATCH_BYTES);
      batch = writer.finish();
    }
    try (Codec.BatchReader reader = codec.read(batch)) {
      return reader.get(0);
    }
  }

  private ItemBatch encode(List<?> items) {
    try (Codec.BatchWriter writer = codec.newBatch()) {
      for (Object item : items) {
        writer.add(item, MAX_BATCH_BYTES);
      }
      return writer.finish();
    }
  }

  private void decode(ItemBatch batch, Blackhole sink) {
    try (Codec.BatchReader reader = codec.read(batch)) {
      int n = reader.size();
      for (int i = 0; i < n; i++) {
        sink.consume(reader.get(i));
      }
    }
  }
}
