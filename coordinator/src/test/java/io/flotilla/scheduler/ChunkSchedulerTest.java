package io.flotilla.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
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
        (ChunkResult r, WorkerHandle w, int base) -> {},
        (e, base) -> failed.complete(e),
        (w, base) -> {});
  }

  @Test
  void deadWorkerChargesAnAttemptOnlyToTheChunkItWasRunning() {
    Outbox first = new Outbox();
    WorkerHandle dying = new WorkerHandle("w1", 101, "here", 1, 1, first);
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
    scheduler.workerReady(new WorkerHandle("w2", 102, "here", 1, 1, second), 2);
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
            (ChunkResult r, WorkerHandle w, int base) -> deliveredBy.add(w.id + "/attempt " + r.getAttempt()),
            (e, base) -> deliveredBy.add("failed: " + e),
            (w, base) -> deliveredBy.add("suspect"));
    WorkerHandle first = new WorkerHandle("w1", 101, "here", 1, 1, new Outbox());
    retrying.workerReady(first, 2);
    retrying.submit(chunk, false);
    retrying.workerLost(first, c -> new IllegalStateException("unexpected"));
    WorkerHandle second = new WorkerHandle("w2", 102, "here", 1, 1, new Outbox());
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
    WorkerHandle dying = new WorkerHandle("w1", 101, "here", 1, 1, new Outbox());
    retrying.workerReady(dying, 1);
    ScheduledChunk suspect =
        new ScheduledChunk(
            retrying, JobSpec.CALL, 1, -1, 1, ItemBatch.getDefaultInstance(), (r, w, base) -> {}, (e, base) -> ignored.complete(e), (w, base) -> {});
    ScheduledChunk other =
        new ScheduledChunk(
            retrying, JobSpec.CALL, 2, -1, 1, ItemBatch.getDefaultInstance(), (r, w, base) -> {}, (e, base) -> ignored.complete(e), (w, base) -> {});
    retrying.submit(suspect, false);
    retrying.submit(other, false);
    retrying.workerLost(dying, c -> new IllegalStateException("unexpected"));
    assertThat(suspect.isolated).isTrue();

    Outbox next = new Outbox();
    WorkerHandle fresh = new WorkerHandle("w2", 102, "here", 1, 1, next);
    retrying.workerReady(fresh, 2);
    assertThat(next.chunkIds()).as("only the suspect, although the worker has credit for two").containsExactly(1L);
    retrying.result(fresh, ChunkResult.newBuilder().setChunkId(1).setAttempt(2).setCredits(1).build());
    assertThat(next.chunkIds()).as("the rest once it is done").containsExactly(1L, 2L);
  }

  /** Four map items whose encodings are the bytes "a" to "d". */
  private static ItemBatch fourItems() {
    return ItemBatch.newBuilder()
        .setData(ByteString.copyFromUtf8("abcd"))
        .addAllEnds(List.of(1, 2, 3, 4))
        .build();
  }

  /** Chunk 9: items 100 to 103 of job 5; records what happens to it in {@code events}. */
  private static ScheduledChunk mapChunkOfFour(ChunkScheduler on, List<String> events) {
    return new ScheduledChunk(
        on,
        new JobSpec(5, ByteString.copyFromUtf8("fn"), List.of()),
        9,
        100,
        4,
        fourItems(),
        (r, w, base) -> events.add(w.id + " answered " + r.getValues().getEndsCount() + " from " + base),
        (e, base) -> events.add("failed from " + base),
        (w, base) -> events.add("suspect from " + base));
  }

  private static ChunkResult piece(long chunkId, int attempt, int items, boolean partial) {
    ItemBatch.Builder values = ItemBatch.newBuilder();
    for (int i = 0; i < items; i++) {
      values.addEnds(0);
    }
    return ChunkResult.newBuilder()
        .setChunkId(chunkId)
        .setAttempt(attempt)
        .setValues(values)
        .setPartial(partial)
        .setCredits(partial ? 0 : 1)
        .build();
  }

  @Test
  void itemsAnsweredByPartialResultsAreNeverSentAgain() {
    ChunkScheduler retrying = new ChunkScheduler(3);
    List<String> events = new ArrayList<>();
    ScheduledChunk chunk = mapChunkOfFour(retrying, events);
    Outbox firstOut = new Outbox();
    WorkerHandle first = new WorkerHandle("w1", 101, "here", 1, 1, firstOut);
    retrying.workerReady(first, 2);
    retrying.submit(chunk, false);
    retrying.result(first, piece(9, 1, 3, true));
    assertThat(chunk.state).as("a partial result leaves the chunk running").isEqualTo(ScheduledChunk.State.SENT);

    retrying.workerLost(first, c -> new IllegalStateException("unexpected"));
    Outbox secondOut = new Outbox();
    WorkerHandle second = new WorkerHandle("w2", 102, "here", 1, 1, secondOut);
    retrying.workerReady(second, 2);
    CoordinatorMessage resent = secondOut.sent.stream().filter(CoordinatorMessage::hasChunk).findFirst().orElseThrow();
    assertThat(resent.getChunk().getFirstIndex()).isEqualTo(103);
    assertThat(resent.getChunk().getItems().getData().toStringUtf8()).isEqualTo("d");
    assertThat(resent.getChunk().getItems().getEndsList()).containsExactly(1);

    retrying.result(first, piece(9, 1, 1, false)); // the dead worker's last words: dropped
    retrying.result(second, piece(9, 2, 1, false));
    assertThat(events).containsExactly("w1 answered 3 from 0", "w2 answered 1 from 3");
  }

  @Test
  void aChunkHandedBackAfterPartialResultsHandsBackOnlyTheRest() {
    List<String> events = new ArrayList<>();
    ScheduledChunk chunk = mapChunkOfFour(scheduler, events);
    WorkerHandle dying = new WorkerHandle("w1", 101, "here", 1, 1, new Outbox());
    scheduler.workerReady(dying, 2);
    scheduler.submit(chunk, false);
    scheduler.result(dying, piece(9, 1, 2, true));
    scheduler.workerLost(dying, c -> new IllegalStateException("unexpected"));
    assertThat(events).containsExactly("w1 answered 2 from 0", "suspect from 2");
  }

  @Test
  void aChunkOutOfAttemptsAfterPartialResultsBlamesItsFirstUnansweredItem() {
    List<String> events = new ArrayList<>();
    ScheduledChunk chunk = mapChunkOfFour(scheduler, events); // one attempt
    WorkerHandle dying = new WorkerHandle("w1", 101, "here", 1, 1, new Outbox());
    scheduler.workerReady(dying, 2);
    scheduler.submit(chunk, false);
    scheduler.result(dying, piece(9, 1, 3, true));
    List<Long> blamed = new ArrayList<>();
    scheduler.workerLost(
        dying,
        c -> {
          blamed.add(c.firstUnanswered());
          return new IllegalStateException("crashed");
        });
    assertThat(blamed).as("items 100 to 102 were answered: 103 killed the worker").containsExactly(103L);
    assertThat(events).containsExactly("w1 answered 3 from 0", "failed from 3");
  }

  /** A finished single task that took {@code nanos} to run. */
  private static ChunkResult ran(long chunkId, long nanos) {
    return piece(chunkId, 1, 1, false).toBuilder().setComputeNanos(nanos).build();
  }

  @Test
  void chunksQueueDeeperOnAWorkerOnlyWhileItsResultsComeBackTiny() {
    Outbox out = new Outbox();
    WorkerHandle worker = new WorkerHandle("w1", 101, "here", 1, 1, out);
    scheduler.workerReady(worker, 9); // one run thread plus a prefetch of eight
    CompletableFuture<Throwable> ignored = new CompletableFuture<>();
    for (long id = 1; id <= 20; id++) {
      scheduler.submit(chunk(id, ignored), false);
    }
    assertThat(out.chunkIds()).as("nothing known of their cost yet: one running, one waiting").containsExactly(1L, 2L);

    scheduler.result(worker, ran(1, 20_000)); // 20 µs: tiny
    assertThat(out.chunkIds()).as("one tiny result: one more may wait").containsExactly(1L, 2L, 3L, 4L);
    scheduler.result(worker, ran(2, 20_000));
    scheduler.result(worker, ran(3, 20_000));
    assertThat(worker.inFlight).as("three tiny results in a row: three more").hasSize(5);

    scheduler.result(worker, ran(4, 50_000_000)); // 50 ms: not tiny
    scheduler.result(worker, ran(5, 20_000));
    assertThat(worker.inFlight).as("the streak starts over").hasSize(3);
  }

  @Test
  void aChunkWaitingInABusyWorkersQueueIsTakenBackWholeForAnIdleWorker() {
    Outbox busyOut = new Outbox();
    WorkerHandle busy = new WorkerHandle("w1", 101, "here", 1, 1, busyOut);
    scheduler.workerReady(busy, 9);
    List<String> events = new ArrayList<>();
    CompletableFuture<Throwable> ignored = new CompletableFuture<>();
    for (long id = 1; id <= 3; id++) {
      scheduler.submit(chunk(100 + id, ignored), false);
      scheduler.result(busy, ran(100 + id, 20_000));
    }
    List<ScheduledChunk> held = new ArrayList<>();
    for (long id = 2; id <= 5; id++) {
      ScheduledChunk c =
          new ScheduledChunk(
              scheduler,
              JobSpec.CALL,
              id,
              -1,
              1,
              ItemBatch.getDefaultInstance(),
              (r, w, base) -> events.add("chunk " + r.getChunkId() + " answered by " + w.id),
              (e, base) -> events.add("failed"),
              (w, base) -> events.add("suspect"));
      held.add(c);
      scheduler.submit(c, false);
    }
    assertThat(busyOut.chunkIds()).as("three tiny results in a row").containsExactly(101L, 102L, 103L, 2L, 3L, 4L, 5L);

    Outbox idleOut = new Outbox();
    WorkerHandle idle = new WorkerHandle("w2", 102, "here", 1, 1, idleOut);
    scheduler.workerReady(idle, 9);
    List<Long> yields =
        busyOut.sent.stream().filter(CoordinatorMessage::hasYield).map(m -> m.getYield().getChunkId()).toList();
    assertThat(yields).as("the last chunk waiting behind the running one").containsExactly(5L);

    scheduler.result(busy, ran(2, 20_000)); // another dispatch while the request is outstanding
    assertThat(busyOut.sent.stream().filter(CoordinatorMessage::hasYield).count())
        .as("one request at a time for the one idle worker")
        .isEqualTo(1);

    // The worker answers a chunk it had not started with all of it handed back.
    scheduler.result(
        busy,
        ChunkResult.newBuilder()
            .setChunkId(5)
            .setAttempt(1)
            .setYielded(true)
            .setValues(ItemBatch.getDefaultInstance())
            .setCredits(1)
            .build());
    assertThat(idleOut.chunkIds()).as("it runs on the idle worker").containsExactly(5L);
    assertThat(held.get(3).attempt).as("no attempt charged").isEqualTo(1);
    assertThat(events).as("nothing reported for the hand-back").containsExactly("chunk 2 answered by w1");
    scheduler.result(idle, ran(5, 20_000));
    assertThat(events).containsExactly("chunk 2 answered by w1", "chunk 5 answered by w2");
  }
}
