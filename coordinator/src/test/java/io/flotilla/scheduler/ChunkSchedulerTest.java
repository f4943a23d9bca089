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
        failed::complete);
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
}
