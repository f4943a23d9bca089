package io.flotilla.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.proto.ChunkResult;
import io.flotilla.proto.CoordinatorMessage;
import io.flotilla.proto.ItemBatch;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The scheduler's bookkeeping when a worker dies, without processes or sockets: the pure counterpart of
 * {@code WorkerCrashTest} (io.flotilla), whose map test shows the same rule with real worker JVMs.
 */
@Timeout(30)
class ChunkSchedulerTest {

  /** Records what the scheduler sends to one worker. */
  private static final class Outbox implements StreamObserver<CoordinatorMessage> {
    final List<CoordinatorMessage> sent = new ArrayList<>();

    @Override
    public synchronized void onNext(CoordinatorMessage m) {
      sent.add(m);
    }

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}

    synchronized List<Long> chunkIds() {
      return sent.stream().filter(CoordinatorMessage::hasChunk).map(m -> m.getChunk().getChunkId()).toList();
    }
  }

  private final ChunkScheduler scheduler = new ChunkScheduler(1);

  private ScheduledChunk chunk(long id, CompletableFuture<Throwable> failed) {
    return new ScheduledChunk(
        scheduler,
        JobSpec.CALL,
        id,
        -1,
        1,
        ItemBatch.getDefaultInstance(),
        (ChunkResult r, WorkerHandle w) -> {},
        failed::complete,
        w -> {});
  }

  @Test
  void deadWorkerChargesAnAttemptOnlyToTheChunkItWasRunning() {
    Outbox first = new Outbox();
    WorkerHandle dying = new WorkerHandle("w1", 101, "here", 1, first);
    scheduler.workerReady(dying, 2); // one run thread plus one chunk held in reserve
    CompletableFuture<Throwable> runningFailed = new CompletableFuture<>();
    CompletableFuture<Throwable> waitingFailed = new CompletableFuture<>();
    ScheduledChunk running = chunk(1, runningFailed);
    ScheduledChunk waiting = chunk(2, waitingFailed);
    scheduler.submit(running, false);
    scheduler.submit(waiting, false);
    assertThat(first.chunkIds()).containsExactly(1L, 2L);

    scheduler.workerLost(dying, c -> new IllegalStateException("chunk " + c.chunkId + " out of attempts"));

    assertThat(runningFailed).as("the chunk the worker was running, with maxAttempts 1").isCompleted();
    assertThat(runningFailed.join()).hasMessage("chunk 1 out of attempts");
    assertThat(waitingFailed).as("the chunk waiting behind it").isNotDone();
    assertThat(waiting.state).isEqualTo(ScheduledChunk.State.QUEUED);
    assertThat(waiting.attempt).isEqualTo(1);

    Outbox second = new Outbox();
    scheduler.workerReady(new WorkerHandle("w2", 102, "here", 1, second), 2);
    assertThat(second.chunkIds()).as("the waiting chunk goes to the next worker").containsExactly(2L);
  }

  @Test
  void aLateResultFromAnEarlierAttemptIsDroppedAndTheChunkCompletesOnce() {
    ChunkScheduler retrying = new ChunkScheduler(3);
    List<String> deliveredBy = new ArrayList<>();
    ScheduledChunk chunk =
        new ScheduledChunk(
            retrying,
            JobSpec.CALL,
            7,
            -1,
            1,
            ItemBatch.getDefaultInstance(),
            (ChunkResult r, WorkerHandle w) -> deliveredBy.add(w.id + "/attempt " + r.getAttempt()),
            e -> deliveredBy.add("failed: " + e),
            w -> deliveredBy.add("suspect"));
    WorkerHandle first = new WorkerHandle("w1", 101, "here", 1, new Outbox());
    retrying.workerReady(first, 2);
    retrying.submit(chunk, false);
    retrying.workerLost(first, c -> new IllegalStateException("unexpected"));
    WorkerHandle second = new WorkerHandle("w2", 102, "here", 1, new Outbox());
    retrying.workerReady(second, 2);
    assertThat(chunk.attempt).isEqualTo(2);

    ChunkResult late = ChunkResult.newBuilder().setChunkId(7).setAttempt(1).setCredits(1).build();
    ChunkResult current = ChunkResult.newBuilder().setChunkId(7).setAttempt(2).setCredits(1).build();
    retrying.result(first, late); // from the dead worker's buffers
    retrying.result(second, late); // the right worker, the wrong attempt
    retrying.result(second, current);
    retrying.result(second, current); // a duplicate

    assertThat(deliveredBy).containsExactly("w2/attempt 2");
  }

  @Test
  void aChunkRequeuedAfterADeathRunsAloneOnItsNextWorker() {
    ChunkScheduler retrying = new ChunkScheduler(3);
    CompletableFuture<Throwable> ignored = new CompletableFuture<>();
    WorkerHandle dying = new WorkerHandle("w1", 101, "here", 1, new Outbox());
    retrying.workerReady(dying, 1);
    ScheduledChunk suspect =
        new ScheduledChunk(
            retrying, JobSpec.CALL, 1, -1, 1, ItemBatch.getDefaultInstance(), (r, w) -> {}, ignored::complete, w -> {});
    ScheduledChunk other =
        new ScheduledChunk(
            retrying, JobSpec.CALL, 2, -1, 1, ItemBatch.getDefaultInstance(), (r, w) -> {}, ignored::complete, w -> {});
    retrying.submit(suspect, false);
    retrying.submit(other, false);
    retrying.workerLost(dying, c -> new IllegalStateException("unexpected"));
    assertThat(suspect.isolated).isTrue();

    Outbox next = new Outbox();
    WorkerHandle fresh = new WorkerHandle("w2", 102, "here", 1, next);
    retrying.workerReady(fresh, 2);
    assertThat(next.chunkIds()).as("only the suspect, although the worker has credit for two").containsExactly(1L);
    retrying.result(fresh, ChunkResult.newBuilder().setChunkId(1).setAttempt(2).setCredits(1).build());
    assertThat(next.chunkIds()).as("the rest once it is done").containsExactly(1L, 2L);
  }
}
