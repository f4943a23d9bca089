package io.flotilla.internal.scheduler;

import com.google.protobuf.ByteString;
import io.flotilla.internal.map.ChunkBackend;
import io.flotilla.proto.ChunkResult;
import io.flotilla.proto.ItemBatch;
import io.flotilla.proto.WorkerRef;
import java.util.List;

/**
 * The scheduler as a coordinator server uses it for remote clients: jobs and chunks arrive already
 * encoded (the client's Kryo bytes, never decoded here), and outcomes leave as the workers sent
 * them, to be relayed to the client. Job and chunk ids are the scheduler's own, unique among all
 * clients.
 */
public final class RelayedJobs {
  private final ChunkScheduler scheduler;

  /**
   * @param scheduler where chunks go
   */
  public RelayedJobs(ChunkScheduler scheduler) {
    this.scheduler = scheduler;
  }

  /**
   * Where a relayed chunk's news goes. Called on any thread (network, cluster, timers), outside the
   * scheduler's lock; must not block.
   */
  public interface Relay {
    /**
     * @param result a piece of the chunk's answer, or its last; its ids are the scheduler's
     * @param worker who ran it
     * @param base how many of the chunk's items earlier pieces answered
     */
    void result(ChunkResult result, WorkerRef worker, int base);

    /**
     * @param error why the items after {@code base} fail (their worker died too often, or a
     *     timeout)
     * @param base how many items were answered before
     */
    void failed(Throwable error, int base);

    /**
     * @param worker the worker that died running it
     * @param base how many items were answered before; the rest are handed back unstarted
     */
    void suspect(WorkerRef worker, int base);
  }

  /**
   * @param function the encoded function, or {@code null} for a job of callables
   * @param bundles the code its classes come from
   * @return the job
   */
  public ChunkBackend.JobRef open(ByteString function, List<String> bundles) {
    return new JobSpec(scheduler.newJobId(), function, List.copyOf(bundles));
  }

  /**
   * The same, saying who runs the job and what it is, for those watching the coordinator.
   *
   * @param function the encoded function, or {@code null} for a job of callables
   * @param bundles the code its classes come from
   * @param client who opened it
   * @param label its name, kind and size
   * @return the job
   */
  public ChunkBackend.JobRef open(
      ByteString function,
      List<String> bundles,
      String client,
      io.flotilla.internal.map.JobLabel label) {
    JobSpec job = new JobSpec(scheduler.newJobId(), function, List.copyOf(bundles));
    scheduler.describeJob(job.id(), client, label);
    return job;
  }

  /**
   * Queues a chunk.
   *
   * @param job the job
   * @param firstIndex the input position of its first item, or -1 for a task
   * @param items the encoded items
   * @param start why it is sent
   * @param relay where its outcomes go
   * @return a handle to cancel it, ask it to yield, or abort it
   */
  public ChunkBackend.ChunkTicket submit(
      ChunkBackend.JobRef job,
      long firstIndex,
      ItemBatch items,
      ChunkBackend.Start start,
      Relay relay) {
    ScheduledChunk chunk =
        new ScheduledChunk(
            scheduler,
            (JobSpec) job,
            scheduler.newChunkId(),
            firstIndex,
            items.getEndsCount(),
            items,
            (result, worker, base) -> relay.result(result, worker.ref, base),
            relay::failed,
            (worker, base) -> relay.suspect(worker.ref, base));
    chunk.isolated = start == ChunkBackend.Start.SUSPECT;
    chunk.resumed = start == ChunkBackend.Start.RESUMED;
    scheduler.submit(chunk, start != ChunkBackend.Start.FRESH);
    return chunk;
  }

  /**
   * @param job a job whose queued chunks are dropped and whose function workers forget
   */
  public void close(ChunkBackend.JobRef job) {
    scheduler.forgetJob(((JobSpec) job).id());
  }
}
