package io.flotilla.scheduler;

import io.flotilla.SerializableFunction;
import io.flotilla.SerializationException;
import io.flotilla.codec.Codec;
import io.flotilla.codec.CodecException;
import io.flotilla.map.ArrayOutcome;
import io.flotilla.map.ChunkBackend;
import io.flotilla.map.ChunkOutcome;
import io.flotilla.proto.ChunkResult;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Runs chunks on worker JVMs: encodes functions (once per job) and items (once per chunk), hands chunks
 * to the {@link ChunkScheduler}, and turns results back into {@link ChunkOutcome}s that decode lazily.
 * Fresh chunks are encoded on the caller's thread; the rest of a chunk that yielded is encoded again on
 * the thread that delivered the yield (a network thread), which keeps the map machinery in one place at
 * the cost of re-encoding only the items not yet run.
 */
public final class ProcessBackend implements ChunkBackend {
  private final ChunkScheduler scheduler;
  private final Codec codec;
  private final ClassLoader loader;
  private final int parallelism;
  private final int maxPayloadBytes;
  private final AtomicLong jobIds = new AtomicLong();
  private final AtomicLong chunkIds = new AtomicLong();

  /** The outcome of a chunk handed back unstarted because it is suspected of killing its worker. */
  private static final ChunkResult SUSPECT_HANDED_BACK = ChunkResult.newBuilder().setYielded(true).build();

  /**
   * @param scheduler where chunks go
   * @param codec the payload codec
   * @param loader where result and exception classes are looked up
   * @param parallelism worker threads in all, for sizing windows
   * @param maxMessageBytes the largest message a worker accepts
   */
  public ProcessBackend(
      ChunkScheduler scheduler, Codec codec, ClassLoader loader, int parallelism, int maxMessageBytes) {
    this.scheduler = scheduler;
    this.codec = codec;
    this.loader = loader;
    this.parallelism = parallelism;
    // A message the worker cannot accept ends its stream, and the chunk would kill worker after worker:
    // refuse it here instead, leaving the same room for the envelope as the worker does for results.
    this.maxPayloadBytes = Math.max(1024, maxMessageBytes - 64 * 1024);
  }

  @Override
  public JobRef openJob(SerializableFunction<?, ?> fn) {
    try {
      com.google.protobuf.ByteString function = codec.encode(fn);
      if (function.size() > maxPayloadBytes) {
        String type = fn.getClass().getName();
        throw new SerializationException(
            SerializationException.Boundary.ENCODE_TASK,
            type,
            "cannot send the map function to the workers: encoded "
                + type
                + " takes "
                + function.size()
                + " bytes, more than fits in one message ("
                + maxPayloadBytes
                + " bytes): capture less, or raise maxMessageBytes",
            null);
      }
      return new JobSpec(jobIds.incrementAndGet(), function);
    } catch (CodecException e) {
      throw new SerializationException(
          SerializationException.Boundary.ENCODE_TASK,
          e.valueClass(),
          "cannot send the map function to the workers: " + e.getMessage(),
          e);
    }
  }

  @Override
  public JobRef callJob() {
    return JobSpec.CALL;
  }

  @Override
  public ChunkTicket run(
      JobRef job, long firstIndex, List<?> items, Start start, Consumer<ChunkOutcome> done) {
    JobSpec spec = (JobSpec) job;
    int n = items.size();
    Throwable[] localFailures = null;
    int failed = 0;
    io.flotilla.proto.ItemBatch batch;
    try (Codec.BatchWriter writer = codec.newBatch()) {
      for (int i = 0; i < n; i++) {
        Object item = items.get(i);
        try {
          writer.add(item, maxPayloadBytes);
        } catch (CodecException e) {
          writer.addEmpty();
          if (localFailures == null) {
            localFailures = new Throwable[n];
          }
          localFailures[i] = encodeFailure(spec, firstIndex < 0 ? -1 : firstIndex + i, e);
          failed++;
        }
      }
      batch = writer.finish();
    }
    if (failed == n) {
      done.accept(new ArrayOutcome(new Object[n], localFailures, -1));
      return () -> false;
    }
    Throwable[] local = localFailures;
    ScheduledChunk chunk =
        new ScheduledChunk(
            scheduler,
            spec,
            chunkIds.incrementAndGet(),
            firstIndex,
            n,
            batch,
            (result, worker, base) ->
                done.accept(new RemoteOutcome(result, worker, firstIndex, base, local, codec, loader, false)),
            (error, base) -> done.accept(ChunkOutcome.failed(n - base, error, base)),
            (worker, base) ->
                done.accept(
                    new RemoteOutcome(
                        SUSPECT_HANDED_BACK, worker, firstIndex, base, local, codec, loader, true)));
    // Suspect items run alone on their worker: if they kill it too, the blame is exact.
    chunk.isolated = start == Start.SUSPECT;
    chunk.resumed = start == Start.RESUMED;
    scheduler.submit(chunk, start != Start.FRESH);
    return chunk;
  }

  private static SerializationException encodeFailure(JobSpec job, long index, CodecException e) {
    String what = job == JobSpec.CALL ? "the task" : "item " + index;
    return new SerializationException(
        SerializationException.Boundary.ENCODE_TASK,
        e.valueClass(),
        "cannot send " + what + " to a worker: " + e.getMessage(),
        e);
  }

  @Override
  public void closeJob(JobRef job) {
    scheduler.forgetJob(((JobSpec) job).id());
  }

  @Override
  public int parallelism() {
    return parallelism;
  }
}
