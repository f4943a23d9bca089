package io.flotilla.microbench;

import io.flotilla.MapOptions;
import io.flotilla.SerializableFunction;
import io.flotilla.internal.map.ArrayOutcome;
import io.flotilla.internal.map.ChunkBackend;
import io.flotilla.internal.map.ChunkOutcome;
import io.flotilla.internal.map.MapRun;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Items per second through {@link MapRun}, the machinery behind {@code map} and {@code
 * mapUnordered}, when chunks complete out of order: reading the input into chunks, keeping the
 * window, matching each outcome to its chunk, holding results back until every earlier chunk is
 * done, and handing them to the consumer one by one. One operation is one item, from the input to
 * the consumer.
 *
 * <p>Why: this runs on the caller's thread for every item of every map, whatever the backend, so it
 * is a floor under the per-item cost of a map of trivial items. With one item per chunk the
 * per-chunk bookkeeping dominates; with 1,024 the per-item path does. {@code ordered=false} ({@code
 * mapUnordered}) is the baseline that the reordering is measured against.
 *
 * <p>The backend runs no function and crosses no thread: the outcome of a chunk is its own items.
 * It holds the chunks of each full window and completes them in reverse, so that the chunk the
 * consumer waits for is always the last of its window to arrive, the worst order for an ordered
 * map. The input is a whole number of windows, so every chunk is completed and the consumer never
 * waits.
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
public class MapReorderBenchmark {
  private static final int ITEMS = 16_384;

  /** The default window for two worker threads ({@code MapRun}: four chunks per thread). */
  private static final int WINDOW = 8;

  /** Items per chunk; both divide {@link #ITEMS} into a whole number of windows. */
  @Param({"1", "1024"})
  public int chunkSize;

  /** {@code map} (true) or {@code mapUnordered} (false). */
  @Param({"true", "false"})
  public boolean ordered;

  private List<Integer> input;
  private MapOptions options;
  private final WindowReversingBackend backend = new WindowReversingBackend();

  /** Builds the input once. */
  @Setup
  public void setUp() {
    input = new ArrayList<>(ITEMS);
    for (int i = 0; i < ITEMS; i++) {
      input.add(i);
    }
    options = MapOptions.defaults().chunkSize(chunkSize).window(WINDOW);
  }

  /**
   * One map over 16,384 items, consumed to the end.
   *
   * @param sink takes each result
   */
  @Benchmark
  @OperationsPerInvocation(ITEMS)
  public void mapThroughWindow(Blackhole sink) {
    try (MapRun<Integer, Integer> results =
        new MapRun<>(backend, backend.job, input, ordered, options, () -> null, () -> {})) {
      while (results.hasNext()) {
        sink.consume(results.next());
      }
    }
  }

  /**
   * Completes each window's chunks, last first, on the thread that submits the window's last chunk.
   */
  private static final class WindowReversingBackend implements ChunkBackend {
    private static final ChunkTicket NOT_CANCELLABLE = () -> false;

    final JobRef job = new JobRef() {};
    private final List<List<?>> heldItems = new ArrayList<>(WINDOW);
    private final List<Consumer<ChunkOutcome>> heldDone = new ArrayList<>(WINDOW);

    @Override
    public JobRef openJob(SerializableFunction<?, ?> fn) {
      return job;
    }

    @Override
    public JobRef callJob() {
      return job;
    }

    @Override
    public ChunkTicket run(
        JobRef job, long firstIndex, List<?> items, Start start, Consumer<ChunkOutcome> done) {
      heldItems.add(items);
      heldDone.add(done);
      if (heldItems.size() == WINDOW) {
        for (int i = WINDOW - 1; i >= 0; i--) {
          heldDone.get(i).accept(new ArrayOutcome(heldItems.get(i).toArray(), null, -1));
        }
        heldItems.clear();
        heldDone.clear();
      }
      return NOT_CANCELLABLE;
    }

    @Override
    public void closeJob(JobRef job) {}

    @Override
    public int parallelism() {
      return 2;
    }
  }
}
