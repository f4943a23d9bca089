package io.flotilla.internal.scheduler;

import io.flotilla.SerializableFunction;
import io.flotilla.internal.codec.Codec;
import io.flotilla.internal.map.ArrayOutcome;
import io.flotilla.internal.map.ChunkBackend;
import io.flotilla.internal.map.ChunkOutcome;
import io.flotilla.internal.map.JobLabel;
import java.util.List;
import java.util.function.Consumer;

/**
 * Runs chunks on worker JVMs: encodes functions (once per job) and items (once per chunk), hands
 * chunks to the {@link ChunkScheduler}, and turns results back into {@link ChunkOutcome}s that
 * decode lazily. Fresh chunks are encoded on the caller's thread; the rest of a chunk that yielded
 * is encoded again on the thread that delivered the yield (a network thread), which keeps the map
 * machinery in one place at the cost of re-encoding only the items not yet run.
 */
public final class ProcessBackend implements ChunkBackend {
  private final ChunkScheduler scheduler;
  private final Codec codec;
  private final ClassLoader loader;
  private final int parallelism;
  private final int maxPayloadBytes;

  /**
   * @param scheduler where chunks go
   * @param codec the payload codec
   * @param loader where result and exception classes are looked up
   * @param parallelism worker threads in all, for sizing windows
   * @param maxMessageBytes the largest message a worker accepts
   */
  public ProcessBackend(
      ChunkScheduler scheduler,
      Codec codec,
      ClassLoader loader,
      int parallelism,
      int maxMessageBytes) {
    this.scheduler = scheduler;
    this.codec = codec;
    this.loader = loader;
    this.parallelism = parallelism;
    // A message the worker cannot accept ends its stream, and the chunk would kill worker after
    // worker:
    // refuse it here instead, leaving the same room for the envelope as the worker does for
    // results.
    this.maxPayloadBytes = Math.max(1024, maxMessageBytes - 64 * 1024);
  }

  @Override
  public JobRef openJob(SerializableFunction<?, ?> fn) {
    return new JobSpec(
        scheduler.newJobId(), EncodedItems.function(codec, fn, maxPayloadBytes), List.of());
  }

  @Override
  public JobRef openJob(
      SerializableFunction<?, ?> fn, java.util.function.Supplier<JobLabel> label) {
    JobSpec job = (JobSpec) openJob(fn);
    if (scheduler.watched()) {
      scheduler.describeJob(job.id(), "local", label.get());
    }
    return job;
  }

  /**
   * Prepares a job whose function's classes come from shipped jars, which workers fetch from the
   * coordinator's code store.
   *
   * @param fn the function
   * @param bundles the jars' digests, already in the code store
   * @return a handle to pass to {@link #run}
   */
  public JobRef openJob(SerializableFunction<?, ?> fn, List<String> bundles) {
    return new JobSpec(
        scheduler.newJobId(),
        EncodedItems.function(codec, fn, maxPayloadBytes),
        List.copyOf(bundles));
  }

  /**
   * The same, saying who runs the job and what it is, for those watching the coordinator.
   *
   * @param fn the function
   * @param bundles the jars' digests, already in the code store
   * @param client who submitted it
   * @param label its name, kind and size
   * @return a handle to pass to {@link #run}
   */
  public JobRef openJob(
      SerializableFunction<?, ?> fn, List<String> bundles, String client, JobLabel label) {
    JobSpec job = (JobSpec) openJob(fn, bundles);
    scheduler.describeJob(job.id(), client, label);
    return job;
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
    EncodedItems encoded = EncodedItems.encode(codec, items, firstIndex, maxPayloadBytes);
    if (encoded.allFailed()) {
      done.accept(new ArrayOutcome(new Object[n], encoded.localFailures(), -1));
      return () -> false;
    }
    Throwable[] local = encoded.localFailures();
    io.flotilla.proto.ItemBatch batch = encoded.batch();
    ScheduledChunk chunk =
        new ScheduledChunk(
            scheduler,
            spec,
            scheduler.newChunkId(),
            firstIndex,
            n,
            batch,
            (result, worker, base) ->
                done.accept(
                    new RemoteOutcome(
                        result, worker.ref, firstIndex, base, local, codec, loader, false)),
            (error, base) -> done.accept(ChunkOutcome.failed(n - base, error, base)),
            (worker, base) ->
                done.accept(
                    RemoteOutcome.suspect(worker.ref, firstIndex, base, local, codec, loader)));
    // Suspect items run alone on their worker: if they kill it too, the blame is exact.
    chunk.isolated = start == Start.SUSPECT;
    chunk.resumed = start == Start.RESUMED;
    scheduler.submit(chunk, start != Start.FRESH);
    return chunk;
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
