package io.flotilla.internal.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.flotilla.BrokenPoolException;
import io.flotilla.proto.ChunkResult;
import io.flotilla.proto.CoordinatorMessage;
import io.flotilla.proto.ItemBatch;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The scheduler's whole table (worker death, stealing, yields, cancels, timeouts, retirement,
 * strict pools) without processes, sockets or sleeps: workers are outboxes, time is a {@link
 * FakeClock}, and {@link ChunkScheduler#validate()} runs after every step. The real-cluster
 * counterparts, with worker JVMs and kill -9, are {@code WorkerCrashTest}, {@code PoisonItemTest},
 * {@code HardCancelAndTimeoutTest}, {@code RecyclingTest}, {@code StrictModeTest} and {@code
 * ProcessPoolLifecycleTest} (io.flotilla).
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
      return sent.stream()
          .filter(CoordinatorMessage::hasChunk)
          .map(m -> m.getChunk().getChunkId())
          .toList();
    }

    synchronized List<Long> yields() {
      return sent.stream()
          .filter(CoordinatorMessage::hasYield)
          .map(m -> m.getYield().getChunkId())
          .toList();
    }

    synchronized boolean stopped() {
      return sent.stream().anyMatch(CoordinatorMessage::hasStop);
    }

    /** The chunks sent, as "id@attempt", and the chunks voided, as "void id@attempt", in order. */
    synchronized List<String> runs() {
      List<String> runs = new ArrayList<>();
      for (CoordinatorMessage m : sent) {
        if (m.hasChunk()) {
          runs.add(m.getChunk().getChunkId() + "@" + m.getChunk().getAttempt());
        }
        if (m.hasVoidChunks()) {
          m.getVoidChunks()
              .getChunksList()
              .forEach(r -> runs.add("void " + r.getChunkId() + "@" + r.getAttempt()));
        }
      }
      return runs;
    }
  }

  private final FakeClock clock = new FakeClock();
  private final List<String> killed = new ArrayList<>();
  private final List<String> retiring = new ArrayList<>();

  /** What happened to the chunks made by {@link #task} and {@link #mapChunkOfFour}, in order. */
  private final List<String> events = new ArrayList<>();

  private ChunkScheduler scheduler;

  /** Uses a scheduler; every step below validates it afterwards. */
  private ChunkScheduler use(int maxAttempts, int quota, Duration timeout) {
    scheduler = new ChunkScheduler(maxAttempts, quota, retiring::add, timeout, killed::add, clock);
    return scheduler;
  }

  private ChunkScheduler use(int maxAttempts) {
    return use(maxAttempts, 0, null);
  }

  // ---------------------------------------------------------------- steps, each validated

  private WorkerHandle ready(String id, int threads, int credits, Outbox out) {
    WorkerHandle worker = new WorkerHandle(id, 100, "here", threads, 2, out);
    scheduler.workerReady(worker, credits);
    scheduler.validate();
    return worker;
  }

  private WorkerHandle ready(String id, int credits) {
    return ready(id, 1, credits, new Outbox());
  }

  private void submit(ScheduledChunk chunk) {
    scheduler.submit(chunk, false);
    scheduler.validate();
  }

  private void answer(WorkerHandle worker, ChunkResult result) {
    scheduler.result(worker, result);
    scheduler.validate();
  }

  private void lose(WorkerHandle worker) {
    scheduler.workerLost(
        worker, c -> new IllegalStateException("chunk " + c.chunkId + " out of attempts"));
    scheduler.validate();
  }

  private void unreachable(WorkerHandle worker) {
    scheduler.workerUnreachable(worker);
    scheduler.validate();
  }

  private void reachable(WorkerHandle worker) {
    scheduler.workerReachable(worker);
    scheduler.validate();
  }

  private void started(WorkerHandle worker, long chunkId, int attempt) {
    scheduler.started(worker, chunkId, attempt);
    scheduler.validate();
  }

  private CompletableFuture<Boolean> withdraw(ScheduledChunk chunk) {
    CompletableFuture<Boolean> answer = chunk.withdraw();
    scheduler.validate();
    return answer;
  }

  private void forward(Duration by) {
    clock.forward(by);
    scheduler.validate();
  }

  // ---------------------------------------------------------------- chunks and results

  /** A submitted task (one callable) whose fate is recorded in {@link #events}. */
  private ScheduledChunk task(long id) {
    return new ScheduledChunk(
        scheduler,
        JobSpec.CALL,
        id,
        -1,
        1,
        ItemBatch.getDefaultInstance(),
        (r, w, base) -> events.add("task " + id + " answered by " + w.id),
        (e, base) ->
            events.add(
                "task " + id + " failed: " + e.getClass().getSimpleName() + ": " + e.getMessage()),
        (w, base) -> events.add("task " + id + " suspect"));
  }

  /** Four map items whose encodings are the bytes "a" to "d". */
  private static ItemBatch fourItems() {
    return ItemBatch.newBuilder()
        .setData(ByteString.copyFromUtf8("abcd"))
        .addAllEnds(List.of(1, 2, 3, 4))
        .build();
  }

  /** Chunk 9: items 100 to 103 of job 5. */
  private ScheduledChunk mapChunkOfFour() {
    return new ScheduledChunk(
        scheduler,
        new JobSpec(5, ByteString.copyFromUtf8("fn"), List.of()),
        9,
        100,
        4,
        fourItems(),
        (r, w, base) ->
            events.add(w.id + " answered " + r.getValues().getEndsCount() + " from " + base),
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

  /** A finished single task that took {@code nanos} to run. */
  private static ChunkResult ran(long chunkId, long nanos) {
    return piece(chunkId, 1, 1, false).toBuilder().setComputeNanos(nanos).build();
  }

  /** What a worker answers for a chunk it gives back before starting it. */
  private static ChunkResult handedBackWhole(long chunkId, int attempt) {
    return ChunkResult.newBuilder()
        .setChunkId(chunkId)
        .setAttempt(attempt)
        .setYielded(true)
        .setValues(ItemBatch.getDefaultInstance())
        .setCredits(1)
        .build();
  }

  /** What a worker answers for a chunk its coordinator voided: its credit, and nothing else. */
  private static ChunkResult voidAnswer(long chunkId, int attempt) {
    return ChunkResult.newBuilder()
        .setChunkId(chunkId)
        .setAttempt(attempt)
        .setCancelled(true)
        .setValues(ItemBatch.getDefaultInstance())
        .setCredits(1)
        .build();
  }

  // ---------------------------------------------------------------- worker death

  @Test
  void deadWorkerChargesAnAttemptOnlyToTheChunkItWasRunning() {
    use(1);
    WorkerHandle dying = ready("w1", 2); // one run thread plus one chunk held in reserve
    ScheduledChunk running = task(1);
    ScheduledChunk waiting = task(2);
    submit(running);
    submit(waiting);

    lose(dying);

    assertThat(events)
        .containsExactly("task 1 failed: IllegalStateException: chunk 1 out of attempts");
    assertThat(waiting.state).isEqualTo(ScheduledChunk.State.QUEUED);
    assertThat(waiting.attempt).isEqualTo(1);
    Outbox second = new Outbox();
    ready("w2", 1, 2, second);
    assertThat(second.chunkIds())
        .as("the waiting chunk goes to the next worker")
        .containsExactly(2L);
  }

  @Test
  void aLateResultFromAnEarlierAttemptIsDroppedAndTheChunkCompletesOnce() {
    use(3);
    ScheduledChunk chunk = task(7);
    WorkerHandle first = ready("w1", 2);
    submit(chunk);
    lose(first);
    WorkerHandle second = ready("w2", 2);
    assertThat(chunk.attempt).isEqualTo(2);

    answer(first, piece(7, 1, 1, false)); // from the dead worker's buffers
    answer(second, piece(7, 1, 1, false)); // the right worker, the wrong attempt
    answer(second, piece(7, 2, 1, false));
    answer(second, piece(7, 2, 1, false)); // a duplicate

    assertThat(events).containsExactly("task 7 answered by w2");
  }

  @Test
  void aChunkRequeuedAfterADeathRunsAloneOnItsNextWorker() {
    use(3);
    WorkerHandle dying = ready("w1", 1);
    ScheduledChunk suspect = task(1);
    submit(suspect);
    submit(task(2));
    lose(dying);
    assertThat(suspect.isolated).isTrue();

    Outbox next = new Outbox();
    WorkerHandle fresh = ready("w2", 1, 2, next);
    assertThat(next.chunkIds())
        .as("only the suspect, although the worker has credit for two")
        .containsExactly(1L);
    answer(fresh, piece(1, 2, 1, false));
    assertThat(next.chunkIds()).as("the rest once it is done").containsExactly(1L, 2L);
  }

  @Test
  void aMapChunkWhoseWorkerDiesIsHandedBackToBeSplit() {
    use(3);
    WorkerHandle dying = ready("w1", 2);
    ScheduledChunk chunk = mapChunkOfFour();
    submit(chunk);
    lose(dying);
    assertThat(chunk.state).isEqualTo(ScheduledChunk.State.DONE);
    assertThat(events).containsExactly("suspect from 0");
    assertThat(scheduler.retries()).isEqualTo(1);
  }

  @Test
  void itemsAnsweredByPartialResultsAreNeverSentAgain() {
    use(3);
    ScheduledChunk chunk = mapChunkOfFour();
    WorkerHandle first = ready("w1", 2);
    submit(chunk);
    answer(first, piece(9, 1, 3, true));
    assertThat(chunk.state)
        .as("a partial result leaves the chunk running")
        .isEqualTo(ScheduledChunk.State.SENT);
    assertThat(chunk.remaining()).isEqualTo(1);

    lose(first);
    Outbox secondOut = new Outbox();
    WorkerHandle second = ready("w2", 1, 2, secondOut);
    CoordinatorMessage resent =
        secondOut.sent.stream().filter(CoordinatorMessage::hasChunk).findFirst().orElseThrow();
    assertThat(resent.getChunk().getFirstIndex()).isEqualTo(103);
    assertThat(resent.getChunk().getItems().getData().toStringUtf8()).isEqualTo("d");
    assertThat(resent.getChunk().getItems().getEndsList()).containsExactly(1);

    answer(first, piece(9, 1, 1, false)); // the dead worker's last words: dropped
    answer(second, piece(9, 2, 1, false));
    assertThat(events).containsExactly("w1 answered 3 from 0", "w2 answered 1 from 3");
  }

  @Test
  void aChunkHandedBackAfterPartialResultsHandsBackOnlyTheRest() {
    use(1);
    ScheduledChunk chunk = mapChunkOfFour();
    WorkerHandle dying = ready("w1", 2);
    submit(chunk);
    answer(dying, piece(9, 1, 2, true));
    lose(dying);
    assertThat(events).containsExactly("w1 answered 2 from 0", "suspect from 2");
  }

  @Test
  void aChunkOutOfAttemptsAfterPartialResultsBlamesItsFirstUnansweredItem() {
    use(1);
    ScheduledChunk chunk = mapChunkOfFour();
    WorkerHandle dying = ready("w1", 2);
    submit(chunk);
    answer(dying, piece(9, 1, 3, true));
    List<Long> blamed = new ArrayList<>();
    scheduler.workerLost(
        dying,
        c -> {
          blamed.add(c.firstUnanswered());
          return new IllegalStateException("crashed");
        });
    scheduler.validate();
    assertThat(blamed)
        .as("items 100 to 102 were answered: 103 killed the worker")
        .containsExactly(103L);
    assertThat(events).containsExactly("w1 answered 3 from 0", "failed from 3");
  }

  // ---------------------------------------------------------------- queue depth and stealing

  @Test
  void chunksQueueDeeperOnAWorkerOnlyWhileItsResultsComeBackTiny() {
    use(1);
    Outbox out = new Outbox();
    WorkerHandle worker = ready("w1", 1, 9, out); // one run thread plus a prefetch of eight
    for (long id = 1; id <= 20; id++) {
      submit(task(id));
    }
    assertThat(out.chunkIds())
        .as("nothing known of their cost yet: one running, one waiting")
        .containsExactly(1L, 2L);

    answer(worker, ran(1, 20_000)); // 20 µs: tiny
    assertThat(out.chunkIds())
        .as("one tiny result: one more may wait")
        .containsExactly(1L, 2L, 3L, 4L);
    answer(worker, ran(2, 20_000));
    answer(worker, ran(3, 20_000));
    assertThat(worker.holdingCount()).as("three tiny results in a row: three more").isEqualTo(5);

    answer(worker, ran(4, 50_000_000)); // 50 ms: not tiny
    answer(worker, ran(5, 20_000));
    assertThat(worker.holdingCount()).as("the streak starts over").isEqualTo(3);
  }

  @Test
  void aStreakOfTinyResultsGoesStaleWhenNoneArrivesForAWhile() {
    use(1);
    Outbox out = new Outbox();
    WorkerHandle worker = ready("w1", 1, 9, out);
    submit(task(1));
    submit(task(2));
    answer(worker, ran(1, 20_000));
    answer(worker, ran(2, 20_000));
    for (long id = 3; id <= 5; id++) {
      submit(task(id));
    }
    assertThat(worker.holdingCount()).as("fresh news of tiny results: two may wait").isEqualTo(3);
    for (long id = 3; id <= 5; id++) {
      answer(worker, ran(id, 20_000));
    }

    forward(Duration.ofNanos(WorkerHandle.TINY_STREAK_NANOS + 1));
    for (long id = 6; id <= 8; id++) {
      submit(task(id));
    }
    assertThat(worker.holdingCount()).as("stale news: one waits, the rest stay here").isEqualTo(2);
  }

  @Test
  void aChunkWaitingInABusyWorkersQueueIsTakenBackWholeForAnIdleWorker() {
    use(1);
    Outbox busyOut = new Outbox();
    WorkerHandle busy = ready("w1", 1, 9, busyOut);
    for (long id = 1; id <= 3; id++) {
      submit(task(100 + id));
      answer(busy, ran(100 + id, 20_000));
    }
    List<ScheduledChunk> held = new ArrayList<>();
    for (long id = 2; id <= 5; id++) {
      ScheduledChunk c = task(id);
      held.add(c);
      submit(c);
    }
    assertThat(busyOut.chunkIds())
        .as("three tiny results in a row")
        .containsExactly(101L, 102L, 103L, 2L, 3L, 4L, 5L);

    Outbox idleOut = new Outbox();
    WorkerHandle idle = ready("w2", 1, 9, idleOut);
    assertThat(busyOut.yields())
        .as("the last chunk waiting behind the running one")
        .containsExactly(5L);

    answer(busy, ran(2, 20_000)); // another dispatch while the request is outstanding
    assertThat(busyOut.yields()).as("one request at a time for the one idle worker").hasSize(1);

    answer(busy, handedBackWhole(5, 1));
    assertThat(idleOut.chunkIds()).as("it runs on the idle worker").containsExactly(5L);
    assertThat(held.get(3).attempt).as("no attempt charged").isEqualTo(1);
    answer(idle, ran(5, 20_000));
    events.removeIf(e -> e.startsWith("task 10"));
    assertThat(events).containsExactly("task 2 answered by w1", "task 5 answered by w2");
  }

  @Test
  void aChunkAskedBackThatHadAlreadyStartedIsAnsweredWhereItRan() {
    use(1);
    Outbox busyOut = new Outbox();
    WorkerHandle busy = ready("w1", 1, 9, busyOut);
    submit(task(1));
    submit(task(2));
    ready("w2", 1, 0, new Outbox()); // no credit: cannot take work, is not idle
    Outbox idleOut = new Outbox();
    ready("w3", 1, 2, idleOut);
    assertThat(busyOut.yields()).containsExactly(2L);

    answer(busy, ran(1, 20_000));
    answer(busy, ran(2, 20_000)); // it had started: answered in full
    assertThat(events).containsExactly("task 1 answered by w1", "task 2 answered by w1");
    assertThat(idleOut.chunkIds()).isEmpty();
  }

  @Test
  void anIdleWorkerAsksTheBiggestMapChunkToYieldItsUnstartedItems() {
    use(1);
    Outbox busyOut = new Outbox();
    WorkerHandle busy = ready("w1", 1, 2, busyOut);
    ScheduledChunk chunk = mapChunkOfFour();
    submit(chunk);
    ready("w2", 1, 2, new Outbox());
    assertThat(busyOut.yields()).containsExactly(9L);

    // It stops after two items and hands the rest back: the map resubmits them.
    answer(busy, piece(9, 1, 2, false).toBuilder().setYielded(true).build());
    assertThat(chunk.state).isEqualTo(ScheduledChunk.State.DONE);
    assertThat(events).containsExactly("w1 answered 2 from 0");
  }

  // ---------------------------------------------------------------- cancelling

  @Test
  void aQueuedChunkIsCancelledAtOnceAndNeverSent() {
    use(1);
    ScheduledChunk chunk = task(1);
    submit(chunk);
    assertThat(chunk.cancelIfNotStarted()).isTrue();
    scheduler.validate();
    Outbox out = new Outbox();
    ready("w1", 1, 2, out);
    assertThat(out.chunkIds()).isEmpty();
    assertThat(chunk.state).isEqualTo(ScheduledChunk.State.CANCELLED);
    assertThat(events).isEmpty();
  }

  @Test
  void aChunkWaitingInAWorkersQueueIsWithdrawnAndNeverRuns() {
    use(1);
    Outbox out = new Outbox();
    WorkerHandle worker = ready("w1", 1, 2, out);
    ScheduledChunk running = task(1);
    ScheduledChunk waiting = task(2);
    submit(running);
    submit(waiting);
    assertThat(out.chunkIds()).containsExactly(1L, 2L);

    assertThat(withdraw(running))
        .as("a running chunk cannot be withdrawn")
        .isCompletedWithValue(false);
    CompletableFuture<Boolean> cancelled = withdraw(waiting);
    assertThat(cancelled).as("the worker must answer first").isNotDone();
    assertThat(out.yields()).containsExactly(2L);
    assertThat(waiting.cancelIfNotStarted())
        .as("the quick cancel does not wait for the worker")
        .isFalse();

    answer(worker, handedBackWhole(2, 1));
    assertThat(cancelled).isCompletedWithValue(true);
    assertThat(waiting.state).isEqualTo(ScheduledChunk.State.CANCELLED);
    submit(task(3));
    assertThat(out.chunkIds())
        .as("never sent again; the credit it held went to the next")
        .containsExactly(1L, 2L, 3L);
    answer(worker, ran(1, 20_000));
    assertThat(events).containsExactly("task 1 answered by w1");
  }

  @Test
  void aWithdrawnChunkThatHadStartedRunsToItsEnd() {
    use(1);
    WorkerHandle worker = ready("w1", 2);
    submit(task(1));
    ScheduledChunk waiting = task(2);
    submit(waiting);
    CompletableFuture<Boolean> cancelled = withdraw(waiting);
    answer(worker, ran(1, 20_000));
    answer(worker, ran(2, 20_000)); // it started before the request arrived
    assertThat(cancelled).isCompletedWithValue(false);
    assertThat(events).containsExactly("task 1 answered by w1", "task 2 answered by w1");
  }

  @Test
  void aWorkerThatNeverAnswersAWithdrawalKeepsTheChunk() {
    use(1);
    Outbox out = new Outbox();
    WorkerHandle worker = ready("w1", 1, 2, out);
    submit(task(1));
    ScheduledChunk waiting = task(2);
    submit(waiting);
    CompletableFuture<Boolean> cancelled = withdraw(waiting);

    forward(ChunkScheduler.WITHDRAW_PATIENCE);
    assertThat(cancelled).isCompletedWithValue(false);
    assertThat(waiting.state).isEqualTo(ScheduledChunk.State.SENT);

    // Its late answer gives the chunk back whole: it is not lost, it is sent again.
    answer(worker, handedBackWhole(2, 1));
    assertThat(out.chunkIds()).containsExactly(1L, 2L, 2L);
    assertThat(waiting.state).isEqualTo(ScheduledChunk.State.SENT);
  }

  @Test
  void aChunkBeingWithdrawnWhenItsWorkerDiesIsCancelled() {
    use(1);
    WorkerHandle worker = ready("w1", 2);
    submit(task(1));
    ScheduledChunk waiting = task(2);
    submit(waiting);
    CompletableFuture<Boolean> cancelled = withdraw(waiting);
    lose(worker);
    assertThat(cancelled).isCompletedWithValue(true);
    assertThat(waiting.state).isEqualTo(ScheduledChunk.State.CANCELLED);
    assertThat(events)
        .containsExactly("task 1 failed: IllegalStateException: chunk 1 out of attempts");
  }

  @Test
  void abortingARunningChunkKillsItsWorkerAndChargesNobody() {
    use(1);
    WorkerHandle worker = ready("w1", 2);
    ScheduledChunk running = task(1);
    ScheduledChunk waiting = task(2);
    submit(running);
    submit(waiting);
    assertThat(running.abort()).isTrue();
    scheduler.validate();
    assertThat(killed).containsExactly("w1");
    assertThat(running.state).isEqualTo(ScheduledChunk.State.CANCELLED);

    lose(worker);
    assertThat(waiting.state)
        .as("its neighbour goes back uncharged")
        .isEqualTo(ScheduledChunk.State.QUEUED);
    assertThat(waiting.attempt).isEqualTo(1);
    assertThat(events).isEmpty();
  }

  // ---------------------------------------------------------------- task timeouts

  @Test
  void aTaskPastItsTimeoutFailsAndItsWorkerIsKilled() {
    use(3, 0, Duration.ofSeconds(10));
    Outbox out = new Outbox();
    WorkerHandle worker = ready("w1", 1, 2, out);
    submit(task(1));
    assertThat(
            out.sent.stream()
                .filter(CoordinatorMessage::hasChunk)
                .findFirst()
                .orElseThrow()
                .getChunk()
                .getReportStart())
        .isTrue();
    forward(Duration.ofSeconds(60));
    assertThat(events).as("the clock starts when the worker says it started").isEmpty();

    started(worker, 1, 1);
    forward(Duration.ofSeconds(9));
    assertThat(events).isEmpty();
    forward(Duration.ofSeconds(1));
    assertThat(killed).containsExactly("w1");
    assertThat(events).hasSize(1);
    assertThat(events.get(0))
        .startsWith("task 1 failed: " + TimeoutException.class.getSimpleName());

    answer(worker, ran(1, 20_000)); // too late
    assertThat(events).hasSize(1);
  }

  @Test
  void aMapChunkPastItsTimeoutIsHandedBackToFindTheSlowItem() {
    use(3, 0, Duration.ofSeconds(10));
    WorkerHandle worker = ready("w1", 2);
    submit(mapChunkOfFour());
    started(worker, 9, 1);
    forward(Duration.ofSeconds(8));
    answer(worker, piece(9, 1, 1, true)); // a piece restarts the clock
    forward(Duration.ofSeconds(8));
    assertThat(killed).isEmpty();
    forward(Duration.ofSeconds(2));
    assertThat(killed).containsExactly("w1");
    assertThat(events).containsExactly("w1 answered 1 from 0", "suspect from 1");
  }

  @Test
  void aFinishedChunkLeavesNoTimerBehind() {
    use(3, 0, Duration.ofSeconds(10));
    WorkerHandle worker = ready("w1", 2);
    submit(task(1));
    started(worker, 1, 1);
    answer(worker, ran(1, 20_000));
    assertThat(clock.pendingTimers()).isZero();
  }

  // ---------------------------------------------------------------- retirement

  @Test
  void aWorkerIsRetiredAfterItsQuotaAndStoppedOnceDrained() {
    use(1, 2, null);
    Outbox out = new Outbox();
    WorkerHandle worker = ready("w1", 1, 4, out);
    submit(task(1));
    submit(task(2));
    submit(task(3));
    assertThat(retiring).containsExactly("w1");
    assertThat(out.chunkIds()).as("nothing beyond the quota").containsExactly(1L, 2L);
    answer(worker, ran(1, 20_000));
    assertThat(out.stopped()).isFalse();
    answer(worker, ran(2, 20_000));
    assertThat(out.stopped()).isTrue();
    assertThat(scheduler.recycled()).isEqualTo(1);

    Outbox next = new Outbox();
    ready("w2", 1, 4, next);
    assertThat(next.chunkIds()).containsExactly(3L);
  }

  @Test
  void aChunkTakenBackUnstartedDoesNotCountTowardsTheQuota() {
    use(1, 3, null);
    Outbox busyOut = new Outbox();
    WorkerHandle busy = ready("w1", 1, 2, busyOut);
    submit(task(1));
    submit(task(2));
    ready("w2", 1, 2, new Outbox());
    answer(busy, handedBackWhole(2, 1));
    submit(task(3));
    assertThat(retiring).as("two sent, one of them given back: one counted").isEmpty();
  }

  @Test
  void aWorkerKeepingTooMuchHeapIsRetired() {
    use(1);
    Outbox out = new Outbox();
    WorkerHandle worker = ready("w1", 1, 2, out);
    submit(task(1));
    answer(worker, ran(1, 20_000).toBuilder().setHeavy(true).build());
    assertThat(retiring).containsExactly("w1");
    assertThat(out.stopped()).isTrue();
  }

  // ---------------------------------------------------------------- broken pools

  @Test
  void aStrictPoolBreaksAtTheFirstDeathAndRefusesLaterWork() {
    use(3);
    List<BrokenPoolException> breaks = new ArrayList<>();
    scheduler.strict(breaks::add);
    WorkerHandle dying = ready("w1", 2);
    submit(task(1));
    submit(task(2));
    submit(task(3));
    lose(dying);
    assertThat(breaks).hasSize(1);
    assertThat(events).hasSize(3).allMatch(e -> e.contains("failed: BrokenPoolException"));
    submit(task(4));
    assertThat(events).hasSize(4);
  }

  @Test
  void breakingThePoolFailsQueuedAndRunningChunks() {
    use(3);
    ready("w1", 1);
    submit(task(1));
    submit(task(2));
    scheduler.breakPool(new IllegalStateException("gone"));
    scheduler.validate();
    assertThat(events)
        .containsExactlyInAnyOrder(
            "task 1 failed: IllegalStateException: gone",
            "task 2 failed: IllegalStateException: gone");
    submit(task(3));
    assertThat(events).contains("task 3 failed: IllegalStateException: gone");
  }

  // ---------------------------------------------------------------- no workers

  /** What the scheduler told its no-workers listener, in order. */
  private final List<String> noWorkersNews = new ArrayList<>();

  /** Watches for want of workers with {@code patience}, as a coordinator server does. */
  private void watchForNoWorkers(Duration patience) {
    scheduler.watchForNoWorkers(
        patience,
        new ChunkScheduler.NoWorkersListener() {
          @Override
          public void waiting(int chunksWaiting) {
            noWorkersNews.add("waiting " + chunksWaiting);
          }

          @Override
          public void ended() {
            noWorkersNews.add("ended");
          }
        });
    scheduler.validate();
  }

  /** The scheduler's log lines at WARN, while {@code run} runs. */
  private static List<String> warnings(Runnable run) {
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(ChunkScheduler.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender =
        new ch.qos.logback.core.read.ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try {
      run.run();
    } finally {
      logger.detachAppender(appender);
    }
    return appender.list.stream()
        .filter(e -> e.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.WARN))
        .map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
        .toList();
  }

  @Test
  void workWithNoWorkerIsWarnedOfOnceAndFailsAfterThePatience() {
    use(3);
    watchForNoWorkers(Duration.ofSeconds(60));
    List<String> warned =
        warnings(
            () -> {
              submit(task(1));
              submit(task(2));
            });
    assertThat(warned)
        .as("one warning, at once")
        .containsExactly(
            "no workers: 1 chunks waiting; they fail in 60 s unless a worker is ready");
    assertThat(noWorkersNews).containsExactly("waiting 1");
    assertThat(scheduler.starvation().chunksWaiting()).isEqualTo(2);

    forward(Duration.ofSeconds(59));
    assertThat(events).isEmpty();
    assertThat(scheduler.starvation().waited()).isEqualTo(Duration.ofSeconds(59));
    forward(Duration.ofSeconds(1));
    assertThat(events)
        .containsExactly(
            "task 1 failed: BrokenPoolException: no workers for 60 s: 2 chunks were waiting;"
                + " start workers (flotilla worker --join ...) or raise --no-workers-timeout",
            "task 2 failed: BrokenPoolException: no workers for 60 s: 2 chunks were waiting;"
                + " start workers (flotilla worker --join ...) or raise --no-workers-timeout");
    assertThat(noWorkersNews).containsExactly("waiting 1", "ended");
    assertThat(scheduler.starvation()).isNull();
    assertThat(clock.pendingTimers()).isZero();
  }

  @Test
  void aWorkerReadyWithinThePatienceEndsTheWaitAndRunsTheWork() {
    use(3);
    watchForNoWorkers(Duration.ofSeconds(60));
    submit(task(1));
    forward(Duration.ofSeconds(30));
    Outbox out = new Outbox();
    ready("w1", 1, 2, out);
    assertThat(out.chunkIds()).containsExactly(1L);
    assertThat(noWorkersNews).containsExactly("waiting 1", "ended");
    assertThat(scheduler.starvation()).isNull();
    assertThat(clock.pendingTimers()).as("the timer is disarmed").isZero();
    forward(Duration.ofSeconds(60));
    assertThat(events).isEmpty();
  }

  @Test
  void workQueuedAfterAFailedWaitWaitsAgainAsLong() {
    use(3);
    watchForNoWorkers(Duration.ofSeconds(60));
    submit(task(1));
    forward(Duration.ofSeconds(60));
    assertThat(events).hasSize(1);

    List<String> warned = warnings(() -> submit(task(2)));
    assertThat(warned).as("the pool is not broken: a new wait").hasSize(1);
    assertThat(warned.get(0)).startsWith("no workers: 1 chunks waiting");
    forward(Duration.ofSeconds(59));
    assertThat(events).hasSize(1);
    forward(Duration.ofSeconds(1));
    assertThat(events).hasSize(2);
    assertThat(events.get(1)).startsWith("task 2 failed: BrokenPoolException: no workers for 60 s");
    assertThat(noWorkersNews).containsExactly("waiting 1", "ended", "waiting 1", "ended");
  }

  @Test
  void theLastWorkerGoingLeavesItsWorkWaiting() {
    use(3);
    watchForNoWorkers(Duration.ofSeconds(60));
    WorkerHandle worker = ready("w1", 1);
    submit(task(1));
    submit(task(2));
    assertThat(scheduler.starvation()).as("a busy worker is no want of workers").isNull();

    scheduler.workerDetached(worker);
    scheduler.validate();
    assertThat(noWorkersNews).containsExactly("waiting 1");
    lose(worker);
    assertThat(scheduler.starvation().chunksWaiting()).as("its chunk queues again").isEqualTo(2);
    forward(Duration.ofSeconds(60));
    assertThat(events)
        .hasSize(2)
        .allMatch(e -> e.contains("failed: BrokenPoolException: no workers for 60 s"));
  }

  @Test
  void cancellingTheWorkThatWaitsEndsTheWait() {
    use(3);
    watchForNoWorkers(Duration.ofSeconds(60));
    ScheduledChunk chunk = task(1);
    submit(chunk);
    assertThat(scheduler.cancel(chunk)).isTrue();
    scheduler.validate();
    assertThat(noWorkersNews).containsExactly("waiting 1", "ended");
    assertThat(clock.pendingTimers()).isZero();
  }

  @Test
  void withNoPatienceTheWaitIsToldButNothingFails() {
    use(3);
    watchForNoWorkers(Duration.ZERO);
    List<String> warned = warnings(() -> submit(task(1)));
    assertThat(warned)
        .containsExactly("no workers: 1 chunks waiting; they wait until a worker is ready");
    forward(Duration.ofHours(1));
    assertThat(events).isEmpty();
    assertThat(scheduler.starvation().waited()).isEqualTo(Duration.ofHours(1));
    ready("w1", 1);
    assertThat(noWorkersNews).containsExactly("waiting 1", "ended");
  }

  @Test
  void aSchedulerNobodyWatchesLetsWorkWaitForItsWorkersSilently() {
    use(3);
    List<String> warned = warnings(() -> submit(task(1)));
    forward(Duration.ofHours(1));
    assertThat(warned).isEmpty();
    assertThat(events).isEmpty();
    assertThat(scheduler.starvation()).isNull();
    assertThat(clock.pendingTimers()).isZero();
  }

  // ---------------------------------------------------------------- workers cut off by the network

  @Test
  void aWorkerCutOffHasItsChunksRunElsewhereAtOnceUnchargedAndWhole() {
    use(1); // a charged attempt would fail a task, and a map chunk would be split
    Outbox cutOut = new Outbox();
    WorkerHandle cut = ready("w1", 3, 5, cutOut);
    ScheduledChunk map = mapChunkOfFour();
    submit(map);
    submit(task(1));
    submit(task(2));
    Outbox otherOut = new Outbox();
    WorkerHandle other = ready("w2", 2, 3, otherOut);
    assertThat(otherOut.runs()).as("nothing to spare for w2 yet").isEmpty();

    unreachable(cut);

    assertThat(otherOut.runs())
        .as("at once, in their order, under new attempts")
        .containsExactly("9@2", "1@2", "2@2");
    assertThat(map.tries).as("uncharged").isEqualTo(1);
    assertThat(map.isolated).isFalse();
    assertThat(map.remaining()).as("not split").isEqualTo(4);
    assertThat(events).isEmpty();
    assertThat(scheduler.retries()).isEqualTo(3);

    ScheduledChunk later = task(3);
    submit(later);
    assertThat(later.state)
        .as("w1 has credit to spare, but gets nothing while cut off")
        .isEqualTo(ScheduledChunk.State.QUEUED);
    assertThat(cutOut.runs()).containsExactly("9@1", "1@1", "2@1");
    assertThat(otherOut.yields()).as("w1 is not idle: nothing is taken back for it").isEmpty();

    answer(other, piece(9, 2, 4, false));
    assertThat(events).containsExactly("w2 answered 4 from 0");
    assertThat(otherOut.runs()).as("the queue moves on").endsWith("3@1");
  }

  @Test
  void theFirstAnswerWinsBetweenACutOffWorkerAndItsChunksNextWorker() {
    use(3);
    WorkerHandle cut = ready("w1", 2, 2, new Outbox());
    ScheduledChunk first = task(1);
    ScheduledChunk second = task(2);
    submit(first);
    submit(second);
    unreachable(cut);
    assertThat(first.state).as("no other worker yet").isEqualTo(ScheduledChunk.State.QUEUED);

    // The cluster found w1 unreachable, yet its answer arrives: the chunk still waits, so it wins.
    answer(cut, piece(1, 1, 1, false));
    assertThat(first.state).isEqualTo(ScheduledChunk.State.DONE);

    Outbox nextOut = new Outbox();
    WorkerHandle next = ready("w2", 1, 2, nextOut);
    assertThat(nextOut.runs()).as("the answered chunk is not run again").containsExactly("2@2");

    answer(cut, piece(2, 1, 1, false)); // too late: w2 has it now
    answer(next, piece(2, 2, 1, false));
    answer(next, piece(2, 2, 1, false)); // a duplicate
    answer(next, piece(1, 1, 1, false)); // never w2's

    assertThat(events).containsExactly("task 1 answered by w1", "task 2 answered by w2");
    assertThat(cut.credits()).as("each of w1's answers returned its credit").isEqualTo(2);
  }

  @Test
  void piecesFromACutOffWorkerAndFromItsChunksNextWorkerNeverMix() {
    use(3);
    WorkerHandle cut = ready("w1", 2);
    ScheduledChunk chunk = mapChunkOfFour();
    submit(chunk);
    answer(cut, piece(9, 1, 1, true));
    unreachable(cut);

    answer(cut, piece(9, 1, 1, true)); // it runs on, unaware: the chunk waits, so the piece counts
    assertThat(chunk.delivered).isEqualTo(2);
    Outbox nextOut = new Outbox();
    WorkerHandle next = ready("w2", 1, 2, nextOut);
    CoordinatorMessage resent =
        nextOut.sent.stream().filter(CoordinatorMessage::hasChunk).findFirst().orElseThrow();
    assertThat(resent.getChunk().getFirstIndex()).as("only the rest").isEqualTo(102);
    assertThat(resent.getChunk().getAttempt()).isEqualTo(2);

    answer(cut, piece(9, 1, 1, true)); // from now on, w1's pieces are late
    answer(next, piece(9, 2, 1, true));
    answer(cut, piece(9, 1, 1, false));
    answer(next, piece(9, 2, 1, false));

    assertThat(events)
        .containsExactly(
            "w1 answered 1 from 0",
            "w1 answered 1 from 1",
            "w2 answered 1 from 2",
            "w2 answered 1 from 3");
    assertThat(chunk.state).isEqualTo(ScheduledChunk.State.DONE);
  }

  @Test
  void aWorkerReachableAgainIsToldWhichOfItsChunksRanElsewhereThenGetsWorkAgain() {
    use(3);
    Outbox cutOut = new Outbox();
    WorkerHandle cut = ready("w1", 3, 3, cutOut);
    for (long id = 1; id <= 3; id++) {
      submit(task(id));
    }
    Outbox otherOut = new Outbox();
    WorkerHandle other = ready("w2", 1, 2, otherOut);

    unreachable(cut);
    assertThat(otherOut.runs()).as("what w2 has room for").containsExactly("1@2", "2@2");
    answer(cut, piece(2, 1, 1, false)); // late (w2 has it), but w1's run of it is over

    reachable(cut);

    List<String> runs = cutOut.runs();
    assertThat(runs.subList(Math.min(3, runs.size()), Math.min(5, runs.size())))
        .as("w1 drops what it may still be running: 1, and 3, which waited here; not 2, answered")
        .containsExactlyInAnyOrder("void 1@1", "void 3@1");
    assertThat(runs)
        .as("then it gets work: 3 again, under its new attempt, as the queue's head")
        .hasSize(6)
        .startsWith("1@1", "2@1", "3@1")
        .endsWith("3@2");
    answer(cut, voidAnswer(1, 1));
    answer(cut, voidAnswer(3, 1)); // its old run of 3: not to be taken for the new one
    answer(cut, piece(3, 2, 1, false));
    answer(other, piece(1, 2, 1, false));
    answer(other, piece(2, 2, 1, false));

    assertThat(events)
        .containsExactlyInAnyOrder(
            "task 1 answered by w2", "task 2 answered by w2", "task 3 answered by w1");
    assertThat(cut.credits()).as("every credit of w1 back").isEqualTo(3);
    assertThat(other.credits()).isEqualTo(2);
  }

  @Test
  void aWorkerDownedAfterItWasCutOffCountsNothingTwice() {
    use(1);
    WorkerHandle cut = ready("w1", 2, 2, new Outbox());
    ScheduledChunk first = task(1);
    ScheduledChunk second = task(2);
    submit(first);
    submit(second);
    unreachable(cut);
    assertThat(scheduler.retries()).isEqualTo(2);

    scheduler.workerDetached(cut);
    scheduler.validate();
    lose(cut);

    assertThat(events).as("nothing charged: with one attempt, a charge would fail it").isEmpty();
    assertThat(scheduler.retries()).as("re-queued once").isEqualTo(2);
    assertThat(first.isolated).isFalse();
    Outbox nextOut = new Outbox();
    WorkerHandle next = ready("w2", 2, 2, nextOut);
    assertThat(nextOut.runs()).containsExactly("1@2", "2@2");
    answer(next, piece(1, 2, 1, false));
    answer(next, piece(2, 2, 1, false));
    assertThat(events).containsExactly("task 1 answered by w2", "task 2 answered by w2");
  }

  @Test
  void aWorkerWhoseStreamEndedIsLeftToItsLossWhenItsHostTurnsUnreachable() {
    use(1);
    WorkerHandle dying = ready("w1", 2);
    submit(task(1));
    scheduler.workerDetached(dying);
    scheduler.validate();

    unreachable(dying); // its JVM died of its task: the failure detector notices too, later

    lose(dying);
    assertThat(events)
        .as("charged as a death, which only the loss can tell")
        .containsExactly("task 1 failed: IllegalStateException: chunk 1 out of attempts");
  }

  // ---------------------------------------------------------------- the rules themselves

  @Test
  void aChunkMovesOnlyAlongTheDiagramsArrows() {
    use(1);
    ScheduledChunk chunk = task(1);
    assertThatThrownBy(() -> chunk.moveTo(ScheduledChunk.State.QUEUED))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("QUEUED to QUEUED");
    chunk.moveTo(ScheduledChunk.State.SENT);
    chunk.moveTo(ScheduledChunk.State.DONE);
    for (ScheduledChunk.State next : ScheduledChunk.State.values()) {
      assertThat(ScheduledChunk.State.DONE.canMoveTo(next)).as("DONE is final").isFalse();
    }
  }

  @Test
  void validateNamesABrokenInvariant() {
    use(1);
    ready("w1", 2);
    ScheduledChunk chunk = task(1);
    submit(chunk);
    chunk.state = ScheduledChunk.State.DONE; // behind the transitions' back
    assertThatThrownBy(scheduler::validate)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("chunk 1 held by worker w1")
        .hasMessageContaining("is DONE");
  }
}
