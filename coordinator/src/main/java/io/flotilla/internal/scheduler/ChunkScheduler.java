package io.flotilla.internal.scheduler;

import io.flotilla.BrokenPoolException;
import io.flotilla.proto.Chunk;
import io.flotilla.proto.ChunkRef;
import io.flotilla.proto.ChunkResult;
import io.flotilla.proto.CoordinatorMessage;
import io.flotilla.proto.DefineJob;
import io.flotilla.proto.ForgetJob;
import io.flotilla.proto.ItemBatch;
import io.flotilla.proto.Stop;
import io.flotilla.proto.VoidChunks;
import io.flotilla.proto.Yield;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands queued chunks to workers that have credit, matches results to chunks, and re-queues the
 * chunks of a worker that is lost, or cut off by the network (reversibly: it may come back). See
 * the package documentation for the data flow, and {@link ScheduledChunk} for the chunk's
 * lifecycle. A coordinator server also has it watch for work that no worker can take ({@link
 * #watchForNoWorkers}): it says so at once, and fails that work after a patience rather than let it
 * wait unseen.
 *
 * <p>Threading: all state is guarded by one lock, held only for bookkeeping and non-blocking sends
 * (gRPC buffers them). Callbacks into the map and future machinery (a chunk's result or failure)
 * are always made after the lock is released, so that a callback may submit or cancel without
 * deadlock.
 *
 * <h2>Implementation notes</h2>
 *
 * Events (a submission, a worker's message, a timer) arrive on any thread through the
 * package-private methods of the "events" section. Each takes the lock, changes state only through
 * the named transitions of the "transitions" section, and collects what must happen after the lock
 * is released (callbacks, retirement notices, kills) as {@link Effects}, which it runs once the
 * lock is released, in the order collected. A transition checks that the lock is held and that the
 * chunk's move is legal; the invariants it keeps are written out in {@link #validate()}, which
 * tests call after every step and which runs after every event when the system property {@value
 * #VALIDATE_PROPERTY} is {@code true}. Time comes from a {@link SchedulerClock}, so the whole table
 * runs in tests without sockets or sleeps.
 */
public final class ChunkScheduler {
  private static final Logger log = LoggerFactory.getLogger(ChunkScheduler.class);

  /** Set to {@code true} to check every invariant after every event: slow, for tests. */
  static final String VALIDATE_PROPERTY = "flotilla.scheduler.validate";

  private static final boolean VALIDATE = Boolean.getBoolean(VALIDATE_PROPERTY);

  /**
   * How long a cancel waits for a worker to give back a chunk waiting in its queue. The answer
   * takes a round trip, well under a millisecond on a healthy link; a worker that has not answered
   * in this time is too busy or too far gone for the caller to wait on, and the cancel then fails
   * as if the chunk had started (it keeps its place, and runs).
   */
  static final Duration WITHDRAW_PATIENCE = Duration.ofSeconds(5);

  private final Object lock = new Object();
  private final ArrayDeque<ScheduledChunk> queue = new ArrayDeque<>(); // guarded by lock
  private final Map<String, WorkerHandle> workers = new LinkedHashMap<>(); // guarded by lock
  private final int maxAttempts;
  private Throwable broken; // guarded by lock
  private long retries; // guarded by lock

  private final int maxTasksPerWorker;
  private final Consumer<String> retiring;
  private long recycled; // guarded by lock

  private final Duration taskTimeout;
  private final Consumer<String> kill;
  private volatile boolean strict;
  private volatile Consumer<BrokenPoolException> onStrictBreak = b -> {};
  private final SchedulerClock clock;

  /** Told each event's counts after the lock; see {@link Effects#run}. */
  private volatile SchedulerMetrics metrics = SchedulerMetrics.NONE;

  private final java.util.concurrent.atomic.AtomicLong jobIds =
      new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong chunkIds =
      new java.util.concurrent.atomic.AtomicLong();

  /** How long work waits with no worker before it fails; null: unwatched, zero: forever. */
  private Duration noWorkersPatience; // guarded by lock

  private NoWorkersListener noWorkersListener; // guarded by lock
  private Starving starving; // guarded by lock

  /**
   * Numbers the listener's news, so that news told late is dropped rather than told out of order.
   */
  private long noWorkersNews; // guarded by lock

  private final Object noWorkersNewsLock = new Object();
  private long noWorkersNewsTold; // guarded by noWorkersNewsLock

  /**
   * @param maxAttempts how many workers may die running one chunk before it fails
   */
  public ChunkScheduler(int maxAttempts) {
    this(maxAttempts, 0, id -> {}, null, id -> {});
  }

  /**
   * @param maxAttempts how many workers may die running one chunk before it fails
   * @param maxTasksPerWorker chunks a worker gets before it is replaced, or 0 for no limit
   * @param retiring told (without the lock held) the id of a worker that has had its quota, so that
   *     a replacement can start while it finishes
   * @param taskTimeout how long a chunk may run once started, or {@code null} for no limit
   * @param kill kills a worker's process (without the lock held), to stop a chunk it is running
   */
  public ChunkScheduler(
      int maxAttempts,
      int maxTasksPerWorker,
      Consumer<String> retiring,
      Duration taskTimeout,
      Consumer<String> kill) {
    this(maxAttempts, maxTasksPerWorker, retiring, taskTimeout, kill, SchedulerClock.system());
  }

  /** The same, on the given clock. */
  ChunkScheduler(
      int maxAttempts,
      int maxTasksPerWorker,
      Consumer<String> retiring,
      Duration taskTimeout,
      Consumer<String> kill,
      SchedulerClock clock) {
    this.maxAttempts = maxAttempts;
    this.maxTasksPerWorker = maxTasksPerWorker;
    this.retiring = retiring;
    this.taskTimeout = taskTimeout;
    this.kill = kill;
    this.clock = clock;
  }

  /**
   * Python's semantics instead of self-healing: the first worker to die holding work breaks the
   * pool, and every pending and later chunk fails with {@link BrokenPoolException}, caused by the
   * crash.
   *
   * @param onBreak told once, when the pool breaks
   */
  public void strict(Consumer<BrokenPoolException> onBreak) {
    this.onStrictBreak = onBreak;
    strict = true;
  }

  /**
   * Watches for work that no worker can take: chunks queued while no worker is ready (a coordinator
   * server whose workers have all gone, or have not joined yet). Such a wait is logged at once, and
   * if it lasts {@code patience} the chunks still queued fail with {@link BrokenPoolException};
   * later chunks queue again, and start a new wait. A local pool does not call this: it starts its
   * own workers, and its work waits for them.
   *
   * @param patience how long queued chunks wait for a worker before they fail; zero: for ever (the
   *     wait is still logged and reported)
   * @param listener told, outside the lock and in order, when a wait begins and ends
   * @throws IllegalStateException if called before: it is a setting, made once before work comes
   */
  public void watchForNoWorkers(Duration patience, NoWorkersListener listener) {
    if (patience.isNegative()) {
      throw new IllegalArgumentException("patience must not be negative: " + patience);
    }
    Effects fx = new Effects();
    synchronized (lock) {
      if (noWorkersPatience != null) {
        throw new IllegalStateException("already watching for want of workers");
      }
      noWorkersPatience = patience;
      noWorkersListener = listener;
      noticeNoWorkersLocked(fx);
      checkLocked();
    }
    fx.run();
  }

  /** Told when queued work begins, and stops, waiting for a worker; must not block. */
  public interface NoWorkersListener {
    /**
     * @param chunksWaiting chunks queued as the wait begins
     */
    void waiting(int chunksWaiting);

    /** A worker is ready, or nothing waits any more (cancelled, or failed after the patience). */
    void ended();
  }

  /**
   * Counts what happens from now on into {@code metrics} (a coordinator server's registry); a
   * scheduler counts nothing otherwise.
   */
  public void metrics(SchedulerMetrics metrics) {
    this.metrics = metrics;
  }

  /** Stops the task-timeout timers. */
  public void close() {
    clock.close();
  }

  /**
   * Job ids are the scheduler's, so that jobs opened by different backends on it (a server's
   * clients and its job service) never share one: a worker knows a job's function by its id.
   *
   * @return an id no job of this scheduler has had
   */
  long newJobId() {
    return jobIds.incrementAndGet();
  }

  /**
   * @return an id no chunk of this scheduler has had: workers and results name chunks by it
   */
  long newChunkId() {
    return chunkIds.incrementAndGet();
  }

  /**
   * @return whether anyone watches this scheduler's events (a dashboard is served)
   */
  boolean watched() {
    return metrics != SchedulerMetrics.NONE;
  }

  /**
   * Tells the watchers what a job is; takes no lock.
   *
   * @param jobId the job
   * @param client who runs it
   * @param label what it is
   */
  void describeJob(long jobId, String client, io.flotilla.internal.map.JobLabel label) {
    metrics.jobOpened(jobId, client, label);
  }

  // ================================================================ events

  void submit(ScheduledChunk chunk, boolean front) {
    Effects fx = new Effects();
    synchronized (lock) {
      if (broken == null) {
        if (front) {
          queue.addFirst(chunk);
        } else {
          queue.addLast(chunk);
        }
        dispatchLocked(fx);
      } else {
        settleLocked(chunk, ScheduledChunk.State.FAILED, fx);
        Throwable refused = broken;
        fx.add(() -> chunk.onFailure.accept(refused, 0));
      }
      noticeNoWorkersLocked(fx);
      checkLocked();
    }
    fx.run();
  }

  /** Asks the worker running a chunk to hand back its unstarted items, once per attempt. */
  void requestYield(ScheduledChunk chunk) {
    synchronized (lock) {
      if (chunk.state == ScheduledChunk.State.SENT && !chunk.yieldRequested) {
        askToYieldLocked(chunk);
      }
      checkLocked();
    }
  }

  int delivered(ScheduledChunk chunk) {
    synchronized (lock) {
      return chunk.delivered;
    }
  }

  /** Cancels a chunk still in the queue; never waits. */
  boolean cancel(ScheduledChunk chunk) {
    Effects fx = new Effects();
    synchronized (lock) {
      if (chunk.state != ScheduledChunk.State.QUEUED) {
        return false;
      }
      // Left in the queue and skipped at dispatch: removal from the middle would make mass
      // cancellation quadratic.
      settleLocked(chunk, ScheduledChunk.State.CANCELLED, fx);
      noticeNoWorkersLocked(fx);
      checkLocked();
    }
    fx.run();
    return true;
  }

  /**
   * Cancels a chunk that has not started: one in the queue at once; one waiting in a worker's queue
   * behind the chunks it runs is asked back, and is cancelled if it comes back whole. The future
   * completes within {@link #WITHDRAW_PATIENCE}.
   */
  CompletableFuture<Boolean> withdraw(ScheduledChunk chunk) {
    Effects fx = new Effects();
    CompletableFuture<Boolean> answer;
    synchronized (lock) {
      if (chunk.state == ScheduledChunk.State.QUEUED) {
        settleLocked(chunk, ScheduledChunk.State.CANCELLED, fx);
        answer = CompletableFuture.completedFuture(true);
      } else if (chunk.state != ScheduledChunk.State.SENT || !chunk.worker.isWaiting(chunk)) {
        answer = CompletableFuture.completedFuture(false);
      } else {
        if (chunk.withdrawal == null) {
          CompletableFuture<Boolean> pending = new CompletableFuture<>();
          chunk.withdrawal = pending;
          if (!chunk.yieldRequested) {
            askToYieldLocked(chunk);
          }
          clock.schedule(() -> withdrawalOverdue(chunk, pending), WITHDRAW_PATIENCE.toNanos());
        }
        answer = chunk.withdrawal;
      }
      noticeNoWorkersLocked(fx);
      checkLocked();
    }
    fx.run();
    return answer;
  }

  /** The worker has not answered in time: the chunk stays, and runs wherever it is. */
  private void withdrawalOverdue(ScheduledChunk chunk, CompletableFuture<Boolean> pending) {
    Effects fx = new Effects();
    synchronized (lock) {
      if (chunk.withdrawal != pending) {
        return;
      }
      chunk.withdrawal = null;
      // Should it still come back whole, it goes back to the queue as if taken back for an idle
      // worker.
      chunk.stolen = true;
      fx.add(() -> pending.complete(false));
      checkLocked();
    }
    log.warn(
        "{} did not give back chunk {} within {}; it was not cancelled",
        chunk.worker,
        chunk.chunkId,
        WITHDRAW_PATIENCE);
    fx.run();
  }

  /**
   * Stops a chunk whether or not it runs: a queued one is cancelled; a running one's worker is
   * killed, which is the only safe way to stop a thread, and its other chunks go back to the queue
   * uncharged.
   */
  boolean abort(ScheduledChunk chunk) {
    Effects fx = new Effects();
    synchronized (lock) {
      if (chunk.state == ScheduledChunk.State.QUEUED) {
        settleLocked(chunk, ScheduledChunk.State.CANCELLED, fx);
      } else if (chunk.state == ScheduledChunk.State.SENT) {
        condemnLocked(chunk.worker, fx);
        settleLocked(chunk, ScheduledChunk.State.CANCELLED, fx);
      } else {
        return false;
      }
      noticeNoWorkersLocked(fx);
      checkLocked();
    }
    fx.run();
    return true;
  }

  /**
   * A worker's stream ended: it gets no more work from now on, while its death is being looked into
   * (which can take seconds); {@link #workerLost} settles its chunks afterwards.
   */
  void workerDetached(WorkerHandle worker) {
    Effects fx = new Effects();
    synchronized (lock) {
      worker.detach();
      noticeNoWorkersLocked(fx);
      checkLocked();
    }
    fx.run();
  }

  /**
   * The cluster finds a worker's host unreachable: the worker gets no more work until it is found
   * reachable again, and every chunk it holds goes back to the front of the queue at once, under a
   * new attempt, uncharged (a network cut is no fault of the task's) and not isolated. The worker
   * may still be running them, and may yet answer; see {@link #result}. A worker whose stream has
   * ended is left to {@link #workerLost}, which alone can tell whether it died of its chunk.
   */
  void workerUnreachable(WorkerHandle worker) {
    Effects fx = new Effects();
    int taken;
    synchronized (lock) {
      if (worker.lost() || !worker.markUnreachable() || !worker.ready()) {
        checkLocked();
        return;
      }
      List<ScheduledChunk> held = new ArrayList<>(worker.held());
      // In reverse, so that addFirst restores their order at the head of the queue.
      taken = 0;
      for (int i = held.size() - 1; i >= 0; i--) {
        cutOffLocked(held.get(i), fx);
        if (held.get(i).state == ScheduledChunk.State.QUEUED) {
          taken++; // not one whose cancel was waiting for it: that one is cancelled instead
        }
      }
      retries += taken;
      dispatchLocked(fx);
      noticeNoWorkersLocked(fx);
      checkLocked();
    }
    log.warn("{} unreachable: its {} chunks run elsewhere", worker, taken);
    fx.run();
  }

  /**
   * A worker found unreachable answers again, and was not lost meanwhile: before any new work, it
   * is told which of its chunks ran elsewhere (VoidChunks), and it answers each of those it still
   * holds with its credit; then it takes work again.
   */
  void workerReachable(WorkerHandle worker) {
    Effects fx = new Effects();
    int voided;
    synchronized (lock) {
      if (worker.lost() || !worker.unreachable()) {
        return;
      }
      worker.markReachable();
      voided = voidCutsLocked(worker);
      stopIfRetiredLocked(worker);
      dispatchLocked(fx);
      noticeNoWorkersLocked(fx);
      checkLocked();
    }
    log.warn(
        "{} reachable again: told to drop {} chunks that were run elsewhere; it takes work again",
        worker,
        voided);
    fx.run();
  }

  /** A worker began a chunk: with a task timeout, its clock starts now. */
  void started(WorkerHandle worker, long chunkId, int attempt) {
    if (taskTimeout == null) {
      return;
    }
    synchronized (lock) {
      ScheduledChunk chunk = worker.holding(chunkId);
      if (chunk != null && chunk.attempt == attempt && chunk.state == ScheduledChunk.State.SENT) {
        armTimerLocked(chunk);
      }
      checkLocked();
    }
  }

  private void timedOut(ScheduledChunk chunk, int attempt) {
    Effects fx = new Effects();
    WorkerHandle worker;
    synchronized (lock) {
      if (chunk.state != ScheduledChunk.State.SENT || chunk.attempt != attempt) {
        return;
      }
      worker = chunk.worker;
      condemnLocked(worker, fx);
      // Several map items: only one of them is hung. Hand the chunk back to be split, like a poison
      // chunk, until the slow item is alone and times out by itself.
      if (chunk.remaining() > 1 && chunk.job.maps()) {
        splitLocked(chunk, fx);
      } else {
        settleLocked(chunk, ScheduledChunk.State.FAILED, fx);
        TimeoutException timeout =
            new TimeoutException(
                (!chunk.job.maps() ? "task" : "chunk of items from " + chunk.firstUnanswered())
                    + " ran longer than the task timeout of "
                    + taskTimeout
                    + "; worker "
                    + worker.id
                    + " was killed to stop it and is being replaced");
        int base = chunk.delivered;
        fx.add(() -> chunk.onFailure.accept(timeout, base));
      }
      noticeNoWorkersLocked(fx);
      checkLocked();
    }
    log.warn(
        "chunk {} ran longer than {}; killing worker {} to stop it",
        chunk.chunkId,
        taskTimeout,
        worker.id);
    fx.run();
  }

  /** Tells every worker that knows the job to drop its queued chunks and its function. */
  void forgetJob(long jobId) {
    if (jobId == JobSpec.CALL.id()) {
      return;
    }
    metrics.jobClosed(jobId);
    CoordinatorMessage forget =
        CoordinatorMessage.newBuilder()
            .setForgetJob(ForgetJob.newBuilder().setJobId(jobId))
            .build();
    synchronized (lock) {
      for (WorkerHandle w : workers.values()) {
        if (w.forgets(jobId)) {
          w.send(forget);
        }
      }
    }
  }

  void workerReady(WorkerHandle worker, int credits) {
    Effects fx = new Effects();
    synchronized (lock) {
      if (worker.lost()) {
        return;
      }
      worker.markReady();
      worker.addCredits(credits);
      workers.put(worker.id, worker);
      dispatchLocked(fx);
      noticeNoWorkersLocked(fx);
      checkLocked();
    }
    fx.run();
  }

  void result(WorkerHandle worker, ChunkResult result) {
    Effects fx = new Effects();
    boolean partial = false;
    synchronized (lock) {
      worker.addCredits(result.getCredits());
      ScheduledChunk chunk = worker.holding(result.getChunkId());
      if (chunk == null || chunk.attempt != result.getAttempt()) {
        if (!acceptFromCutOffLocked(worker, result, fx)) {
          log.debug(
              "dropping late or duplicate result of chunk {} attempt {} from {}",
              result.getChunkId(),
              result.getAttempt(),
              worker);
        }
      } else {
        int base = chunk.delivered;
        int answered = result.getValues().getEndsCount();
        worker.answered(answered);
        fx.answered(chunk, worker, result);
        chunk.failedOnWorker += result.getFailuresCount();
        chunk.computeNanos += result.getComputeNanos();
        if (answered > 0) {
          worker.ran(result.getComputeNanos(), clock.nanoTime());
        }
        boolean whole = handedBackWhole(result);
        if (chunk.withdrawal != null && !whole) {
          // It started after all: the cancel fails, and the chunk goes on as any other.
          CompletableFuture<Boolean> withdrawal = chunk.withdrawal;
          chunk.withdrawal = null;
          fx.add(() -> withdrawal.complete(false));
        }
        if (whole && (chunk.stolen || chunk.withdrawal != null)) {
          // Taken back from the worker's queue: nothing ran, and it does not count towards the
          // worker's task quota. A withdrawn chunk is cancelled; a stolen one goes to an idle
          // worker.
          requeueLocked(chunk, Requeue.TAKEN_BACK, fx);
          stopIfRetiredLocked(worker);
        } else if (result.getPartial()) {
          // More of the chunk follows from the same run: it stays in flight, holding its credit.
          chunk.delivered += answered;
          partial = true;
          if (chunk.timer != null) {
            // The task timeout counts from the last piece: a chunk of many items is not one task.
            armTimerLocked(chunk);
          }
          fx.add(() -> chunk.onResult.accept(result, worker, base));
        } else {
          if (result.getHeavy() && !worker.retired()) {
            log.info("{} keeps too much heap after collections; replacing it", worker);
            retireLocked(worker, fx);
          }
          settleLocked(chunk, ScheduledChunk.State.DONE, fx);
          worker.chunkDone();
          stopIfRetiredLocked(worker);
          fx.add(() -> chunk.onResult.accept(result, worker, base));
        }
      }
      if (!partial) {
        // A piece of a chunk frees nothing: the chunk keeps its worker's run thread and credit.
        dispatchLocked(fx);
      }
      noticeNoWorkersLocked(fx);
      checkLocked();
    }
    fx.run();
  }

  /**
   * A result from a worker that the network cut off, for a chunk taken from it then: accepted while
   * the chunk waits in the queue, not yet sent again, so that the first answer wins; once another
   * worker has the chunk, it is dropped like any late result. The pieces a cut-off worker sends for
   * its attempt follow the ones it sent before, so a piece accepted here starts where the chunk's
   * {@link ScheduledChunk#delivered} says.
   *
   * @return whether the result was accepted; the caller drops it otherwise
   */
  private boolean acceptFromCutOffLocked(WorkerHandle worker, ChunkResult result, Effects fx) {
    WorkerHandle.Cut cut = worker.cut(result.getChunkId());
    if (cut == null || cut.attempt() != result.getAttempt()) {
      return false;
    }
    ScheduledChunk chunk = cut.chunk();
    if (!result.getPartial()) {
      // Its run there is over: nothing left for the worker to drop when it is reachable again.
      worker.uncut(chunk.chunkId);
    }
    if (chunk.cutFrom != worker || chunk.state != ScheduledChunk.State.QUEUED) {
      return false;
    }
    if (handedBackWhole(result)) {
      // Given back unstarted, as asked before the cut: the queued copy is the only one left.
      forgetCutLocked(chunk);
      return true;
    }
    int base = chunk.delivered;
    int answered = result.getValues().getEndsCount();
    worker.answered(answered);
    fx.answered(chunk, worker, result);
    if (result.getPartial()) {
      chunk.delivered += answered;
    } else {
      settleQueuedLocked(chunk, fx);
      worker.chunkDone();
    }
    log.debug(
        "chunk {} answered by {}, cut off, before it was sent again{}",
        chunk.chunkId,
        worker,
        result.getPartial() ? " (a piece)" : "");
    fx.add(() -> chunk.onResult.accept(result, worker, base));
    return true;
  }

  private static boolean handedBackWhole(ChunkResult result) {
    return result.getYielded()
        && !result.getPartial()
        && result.getValues().getEndsCount() == 0
        && result.getFailuresCount() == 0;
  }

  /**
   * A worker is gone. Its chunks go back to the front of the queue, or fail once they have used up
   * their attempts.
   *
   * @param worker the worker
   * @param why builds the exception for a chunk out of attempts, given that chunk
   */
  void workerLost(WorkerHandle worker, Function<ScheduledChunk, Throwable> why) {
    workerLost(worker, false, WorkerDeath.UNKNOWN, why);
  }

  /**
   * The same, saying whether the worker left on purpose (it said so, or this side is stopping) and
   * how its process ended, for the count of workers lost by cause.
   */
  void workerLost(
      WorkerHandle worker,
      boolean left,
      WorkerDeath death,
      Function<ScheduledChunk, Throwable> why) {
    Effects fx = new Effects();
    synchronized (lock) {
      fx.lost = lossCause(worker, left, death);
      fx.lostWorker = worker;
      if (!worker.markLost()) {
        return;
      }
      workers.remove(worker.id);
      // Cut off before it was lost: its chunks already run elsewhere, and it will send nothing
      // more.
      for (WorkerHandle.Cut cut : worker.dropCuts()) {
        if (cut.chunk().cutFrom == worker) {
          forgetCutLocked(cut.chunk());
        }
      }
      List<ScheduledChunk> held = new ArrayList<>(worker.held());
      if (strict && !held.isEmpty() && !worker.killedDeliberately()) {
        breakStrictLocked(held, why, fx);
      } else {
        loseChunksLocked(worker, held, why, fx);
      }
      dispatchLocked(fx);
      noticeNoWorkersLocked(fx);
      checkLocked();
    }
    fx.run();
  }

  private static SchedulerMetrics.WorkerLoss lossCause(
      WorkerHandle worker, boolean left, WorkerDeath death) {
    if (worker.killedDeliberately()) {
      // A worker killed to stop a chunk is told to leave first: killed is what it was.
      return SchedulerMetrics.WorkerLoss.KILLED;
    }
    if (left) {
      return worker.retired()
          ? SchedulerMetrics.WorkerLoss.RECYCLED
          : SchedulerMetrics.WorkerLoss.LEFT;
    }
    if (worker.unreachable()) {
      return SchedulerMetrics.WorkerLoss.UNREACHABLE;
    }
    if (death.stderrTail().contains("OutOfMemoryError")) {
      return SchedulerMetrics.WorkerLoss.OUT_OF_MEMORY;
    }
    if (death.exitCode() == null) {
      return SchedulerMetrics.WorkerLoss.CRASHED;
    }
    // As a shell reports it, and as Process.exitValue() does: 128 plus the signal's number.
    return death.exitCode() > 128
        ? SchedulerMetrics.WorkerLoss.SIGNAL
        : SchedulerMetrics.WorkerLoss.EXIT;
  }

  /**
   * The first death of a strict pool: every chunk fails, caused by the crash, and the pool breaks.
   */
  private void breakStrictLocked(
      List<ScheduledChunk> held, Function<ScheduledChunk, Throwable> why, Effects fx) {
    ScheduledChunk first = held.get(0);
    List<Integer> bases = new ArrayList<>();
    for (ScheduledChunk chunk : held) {
      bases.add(chunk.delivered);
      settleLocked(chunk, ScheduledChunk.State.FAILED, fx);
    }
    fx.add(
        () -> {
          Throwable crash = why.apply(first);
          BrokenPoolException brokenPool =
              new BrokenPoolException(
                  "a worker died with tasks in flight, and the pool is strict: "
                      + crash.getMessage(),
                  crash);
          // The pool is marked broken before any future fails, so code reacting to a failed future
          // sees its next submit() rejected.
          onStrictBreak.accept(brokenPool);
          breakPool(brokenPool);
          for (int i = 0; i < held.size(); i++) {
            held.get(i).onFailure.accept(brokenPool, bases.get(i));
          }
        });
  }

  /**
   * A worker starts its chunks in the order they were sent, one per run thread, so only the first
   * {@code threads} of them can have been running when it died; the rest were waiting behind them.
   * Only the former are charged an attempt: a poisonous item must not use up its neighbours'
   * attempts. The guess can be wrong (a finished chunk's result may die unsent in the worker's
   * buffers), so every chunk re-queued runs isolated next time: alone on its worker, where a death
   * is its own.
   */
  private void loseChunksLocked(
      WorkerHandle worker,
      List<ScheduledChunk> held,
      Function<ScheduledChunk, Throwable> why,
      Effects fx) {
    int split = 0;
    int exhausted = 0;
    // Re-queue in reverse so that addFirst restores their original order at the head.
    for (int i = held.size() - 1; i >= 0; i--) {
      ScheduledChunk chunk = held.get(i);
      boolean charged = !worker.killedDeliberately() && (chunk.isolated || i < worker.threads);
      if (charged && chunk.remaining() > 1 && chunk.job.maps() && chunk.withdrawal == null) {
        // Hunting the poison item: the map gets the chunk back unstarted, as from a yield, and runs
        // it again as two isolated halves, so that one bad item cannot fail its neighbours.
        splitLocked(chunk, fx);
        retries++;
        split++;
      } else if (charged && chunk.tries >= maxAttempts && chunk.withdrawal == null) {
        int base = chunk.delivered;
        settleLocked(chunk, ScheduledChunk.State.FAILED, fx);
        fx.add(() -> chunk.onFailure.accept(why.apply(chunk), base));
        exhausted++;
      } else {
        requeueLocked(
            chunk, charged ? Requeue.RAN_ON_LOST_WORKER : Requeue.WAITED_ON_LOST_WORKER, fx);
        retries++;
      }
    }
    if (!held.isEmpty()) {
      log.warn(
          "{} lost with {} chunks in flight; {} re-queued, {} split to find a poison item, {} out of"
              + " attempts",
          worker,
          held.size(),
          held.size() - exhausted - split,
          split,
          exhausted);
    }
  }

  /** Fails every queued chunk, and every later submission, with {@code cause}. */
  public void breakPool(Throwable cause) {
    Effects fx = new Effects();
    synchronized (lock) {
      if (broken != null) {
        return;
      }
      broken = cause;
      List<ScheduledChunk> failed = new ArrayList<>();
      for (ScheduledChunk chunk : queue) {
        if (chunk.state == ScheduledChunk.State.QUEUED) {
          failed.add(chunk);
        }
      }
      queue.clear();
      for (WorkerHandle w : workers.values()) {
        failed.addAll(w.held());
      }
      for (ScheduledChunk chunk : failed) {
        int base = chunk.delivered;
        settleLocked(chunk, ScheduledChunk.State.FAILED, fx);
        fx.add(() -> chunk.onFailure.accept(cause, base));
      }
      noticeNoWorkersLocked(fx);
      checkLocked();
    }
    fx.run();
  }

  /**
   * No worker was ready within the patience: the chunks still queued fail, and the wait ends. The
   * pool is not broken: chunks queued later wait again, as long.
   */
  private void noWorkersTooLong(Starving wait) {
    Effects fx = new Effects();
    int failed;
    synchronized (lock) {
      if (starving != wait) {
        return;
      }
      List<ScheduledChunk> waiting = new ArrayList<>();
      for (ScheduledChunk chunk : queue) {
        if (chunk.state == ScheduledChunk.State.QUEUED) {
          waiting.add(chunk);
        }
      }
      failed = waiting.size();
      BrokenPoolException cause =
          new BrokenPoolException(
              "no workers for "
                  + inWords(noWorkersPatience)
                  + ": "
                  + failed
                  + " chunks were waiting; start workers (flotilla worker --join ...) or raise"
                  + " --no-workers-timeout",
              null);
      giveUpWaitingLocked(waiting, cause, fx);
      noticeNoWorkersLocked(fx);
      checkLocked();
    }
    log.warn(
        "no workers for {}: failed the {} chunks waiting; later ones wait again",
        inWords(noWorkersPatience),
        failed);
    fx.run();
  }

  // ================================================================ transitions

  /** Why a SENT chunk goes back to the queue. */
  enum Requeue {
    /** Given back whole from a worker's queue, for an idle worker: uncharged, not isolated. */
    TAKEN_BACK(false, false, false),
    /** Its worker died while it waited behind others: uncharged, isolated next time. */
    WAITED_ON_LOST_WORKER(false, true, false),
    /** Its worker died, probably while running it: charged an attempt, isolated next time. */
    RAN_ON_LOST_WORKER(true, true, true),
    /**
     * Its worker's host is unreachable, and may still be running it: a new attempt, so that the two
     * runs' results are told apart, but uncharged (the network failed, not the task) and not
     * isolated.
     */
    CUT_OFF(false, false, true);

    final boolean charged;
    final boolean isolates;

    /**
     * Whether it is sent again under a new attempt: its last holder may still answer the old one.
     */
    final boolean renames;

    Requeue(boolean charged, boolean isolates, boolean renames) {
      this.charged = charged;
      this.isolates = isolates;
      this.renames = renames;
    }
  }

  /** QUEUED → SENT: the chunk, at the head of the queue, goes to {@code worker}. */
  private void assignLocked(ScheduledChunk chunk, WorkerHandle worker, Effects fx) {
    requireLock();
    if (queue.peekFirst() != chunk) {
      throw new IllegalStateException(
          "chunk " + chunk.chunkId + " is assigned but not at the head of the queue");
    }
    chunk.moveTo(ScheduledChunk.State.SENT);
    queue.pollFirst();
    if (chunk.job.id() != JobSpec.CALL.id() && worker.learns(chunk.job.id())) {
      worker.send(CoordinatorMessage.newBuilder().setDefineJob(defineJob(chunk.job)).build());
    }
    chunk.worker = worker;
    chunk.stolen = false;
    // Sent again: what the worker it was cut off from still sends for it is late from now on.
    forgetCutLocked(chunk);
    if (worker.hold(chunk) >= maxTasksPerWorker && maxTasksPerWorker > 0) {
      retireLocked(worker, fx);
    }
    ItemBatch items = chunk.unanswered();
    if (fx.watched()) {
      // Its stay on this worker, for the watchers; nobody else reads these.
      chunk.sentNanos = clock.nanoTime();
      chunk.sentItems = items.getEndsCount();
      chunk.failedOnWorker = 0;
      chunk.computeNanos = 0;
      fx.sent(chunk, worker, chunk.sentItems, items.getData().size(), chunk.sentNanos);
    }
    worker.send(
        CoordinatorMessage.newBuilder()
            .setChunk(
                Chunk.newBuilder()
                    .setJobId(chunk.job.id())
                    .setChunkId(chunk.chunkId)
                    .setAttempt(chunk.attempt)
                    .setFirstIndex(Math.max(0, chunk.firstUnanswered()))
                    .setItems(items)
                    .setReportStart(taskTimeout != null))
            .build());
  }

  /**
   * SENT → QUEUED, at the front: the one place a chunk comes off a worker to run again. A chunk
   * whose cancel is waiting for it is cancelled instead: it has not run, and now never will.
   */
  private void requeueLocked(ScheduledChunk chunk, Requeue why, Effects fx) {
    requireLock();
    if (chunk.withdrawal != null) {
      settleLocked(chunk, ScheduledChunk.State.CANCELLED, fx);
      return;
    }
    chunk.moveTo(ScheduledChunk.State.QUEUED);
    if (why == Requeue.TAKEN_BACK) {
      fx.left(chunk, SchedulerMetrics.Ending.REQUEUED);
    } else {
      fx.left(chunk, SchedulerMetrics.Ending.LOST);
      fx.unanswered(chunk, Unanswered.Kind.RETRIED, chunk.size - chunk.delivered);
    }
    chunk.worker.release(chunk, why.charged || why.isolates);
    stopTimerLocked(chunk);
    chunk.worker = null;
    chunk.yieldRequested = false;
    chunk.stolen = false;
    if (why.charged) {
      chunk.tries++;
    }
    if (why.renames) {
      chunk.attempt++;
    }
    if (why.isolates) {
      chunk.isolated = true;
    }
    queue.addFirst(chunk);
  }

  /**
   * SENT → DONE, handed back suspect: the map runs the items not yet answered again, as two halves.
   */
  private void splitLocked(ScheduledChunk chunk, Effects fx) {
    requireLock();
    WorkerHandle worker = chunk.worker;
    int base = chunk.delivered;
    settleLocked(chunk, ScheduledChunk.State.DONE, SchedulerMetrics.Ending.LOST, fx);
    fx.add(() -> chunk.onSuspect.accept(worker, base));
  }

  /**
   * SENT → QUEUED, at the front, under a new attempt and uncharged: its worker is cut off by the
   * network. The worker remembers the attempt it was sent, to accept what it still sends for it
   * while the chunk waits here, and to tell it to drop the chunk once it is reachable again.
   */
  private void cutOffLocked(ScheduledChunk chunk, Effects fx) {
    requireLock();
    WorkerHandle worker = chunk.worker;
    worker.cutOff(chunk);
    requeueLocked(chunk, Requeue.CUT_OFF, fx);
    if (chunk.state == ScheduledChunk.State.QUEUED) {
      chunk.cutFrom = worker;
    }
  }

  /**
   * QUEUED → DONE: a chunk taken from a worker cut off by the network is answered by that worker
   * before it was sent again. It leaves the queue, so that nothing runs it again.
   */
  private void settleQueuedLocked(ScheduledChunk chunk, Effects fx) {
    requireLock();
    if (!queue.remove(chunk)) {
      throw new IllegalStateException("queued chunk " + chunk.chunkId + " is not in the queue");
    }
    settleLocked(chunk, ScheduledChunk.State.DONE, fx);
  }

  /** What the worker a chunk was cut off from still sends for it is no longer accepted. */
  private void forgetCutLocked(ScheduledChunk chunk) {
    requireLock();
    chunk.cutFrom = null;
  }

  /**
   * Tells a worker reachable again to drop the chunks taken from it while it was cut off (those it
   * has not finished since), before anything else is sent to it; they run, or ran, elsewhere under
   * new attempts.
   *
   * @return how many it was told to drop
   */
  private int voidCutsLocked(WorkerHandle worker) {
    requireLock();
    VoidChunks.Builder voided = VoidChunks.newBuilder();
    for (WorkerHandle.Cut cut : worker.dropCuts()) {
      if (cut.chunk().cutFrom == worker) {
        forgetCutLocked(cut.chunk());
      }
      voided.addChunks(
          ChunkRef.newBuilder().setChunkId(cut.chunk().chunkId).setAttempt(cut.attempt()));
    }
    if (voided.getChunksCount() > 0) {
      worker.send(CoordinatorMessage.newBuilder().setVoidChunks(voided).build());
    }
    return voided.getChunksCount();
  }

  /**
   * Any state → a final one: the chunk leaves its worker (if it had one) and its timer stops. Its
   * outcome's callback is the caller's to collect, since only the caller knows what the outcome is.
   * A cancel waiting on the chunk learns whether it was the one to end it.
   */
  private void settleLocked(ScheduledChunk chunk, ScheduledChunk.State outcome, Effects fx) {
    settleLocked(
        chunk,
        outcome,
        switch (outcome) {
          case FAILED -> SchedulerMetrics.Ending.FAILED;
          case CANCELLED -> SchedulerMetrics.Ending.CANCELLED;
          default -> SchedulerMetrics.Ending.DONE;
        },
        fx);
  }

  /** The same, saying how the chunk's stay on its worker, if it had one, ended. */
  private void settleLocked(
      ScheduledChunk chunk,
      ScheduledChunk.State outcome,
      SchedulerMetrics.Ending ending,
      Effects fx) {
    requireLock();
    if (!outcome.isFinal()) {
      throw new IllegalArgumentException("settle to " + outcome);
    }
    chunk.moveTo(outcome);
    if (outcome == ScheduledChunk.State.FAILED) {
      // Its items not yet answered fail with it.
      fx.unanswered(chunk, Unanswered.Kind.FAILED, chunk.size - chunk.delivered);
    } else if (outcome == ScheduledChunk.State.CANCELLED) {
      fx.unanswered(chunk, Unanswered.Kind.CANCELLED, chunk.size - chunk.delivered);
    }
    if (chunk.worker != null) {
      fx.left(chunk, ending);
      chunk.worker.release(chunk, true);
    }
    forgetCutLocked(chunk);
    stopTimerLocked(chunk);
    if (chunk.withdrawal != null) {
      CompletableFuture<Boolean> withdrawal = chunk.withdrawal;
      chunk.withdrawal = null;
      boolean cancelled = outcome == ScheduledChunk.State.CANCELLED;
      fx.add(() -> withdrawal.complete(cancelled));
    }
  }

  /** A worker is killed to stop a chunk: it gets nothing more, and its death charges nobody. */
  private void condemnLocked(WorkerHandle worker, Effects fx) {
    requireLock();
    worker.condemn();
    fx.add(() -> kill.accept(worker.id));
  }

  /**
   * Not waiting for workers ⇄ waiting, as the queue and the workers now stand: chunks queued while
   * no worker is ready start a wait, logged at once and timed when there is a patience; a ready
   * worker, or nothing queued, ends it. Every event that changes the queue or a worker's readiness
   * calls this last, so the wait always matches them ({@link #validate()} checks it).
   */
  private void noticeNoWorkersLocked(Effects fx) {
    requireLock();
    if (noWorkersPatience == null) {
      return;
    }
    boolean waiting = !hasReadyWorkerLocked() && hasQueuedLocked();
    if (waiting && starving == null) {
      startStarvingLocked(fx);
    } else if (!waiting && starving != null) {
      stopStarvingLocked(fx);
    }
  }

  private void startStarvingLocked(Effects fx) {
    int waiting = countQueuedLocked();
    Duration patience = noWorkersPatience;
    Starving wait = new Starving(clock.nanoTime());
    starving = wait;
    if (!patience.isZero()) {
      wait.timer = clock.schedule(() -> noWorkersTooLong(wait), patience.toNanos());
    }
    fx.add(
        () ->
            log.warn(
                "no workers: {} chunks waiting; {}",
                waiting,
                patience.isZero()
                    ? "they wait until a worker is ready"
                    : "they fail in " + inWords(patience) + " unless a worker is ready"));
    tellNoWorkersLocked(listener -> listener.waiting(waiting), fx);
  }

  private void stopStarvingLocked(Effects fx) {
    Starving wait = starving;
    starving = null;
    if (wait.timer != null) {
      wait.timer.cancel();
    }
    long waitedMs = Duration.ofNanos(clock.nanoTime() - wait.sinceNanos).toMillis();
    String why = hasReadyWorkerLocked() ? "a worker is ready" : "no chunk waits any more";
    fx.add(() -> log.info("the wait for workers ended after {} ms: {}", waitedMs, why));
    tellNoWorkersLocked(NoWorkersListener::ended, fx);
  }

  /**
   * The listener's news goes out after the lock, so two events' news may race there: each is
   * numbered under the lock, and news older than what was told already is dropped, being stale.
   */
  private void tellNoWorkersLocked(Consumer<NoWorkersListener> news, Effects fx) {
    NoWorkersListener listener = noWorkersListener;
    long number = ++noWorkersNews;
    fx.add(
        () -> {
          synchronized (noWorkersNewsLock) {
            if (number > noWorkersNewsTold) {
              noWorkersNewsTold = number;
              news.accept(listener);
            }
          }
        });
  }

  /** QUEUED → FAILED, for chunks that waited for a worker longer than the patience. */
  private void giveUpWaitingLocked(List<ScheduledChunk> waiting, Throwable cause, Effects fx) {
    requireLock();
    for (ScheduledChunk chunk : waiting) {
      int base = chunk.delivered;
      settleLocked(chunk, ScheduledChunk.State.FAILED, fx);
      fx.add(() -> chunk.onFailure.accept(cause, base));
    }
    // Only chunks cancelled while queued are left, which dispatch would skip.
    queue.clear();
  }

  /** No more work for this worker; a replacement starts now, and it is stopped once drained. */
  private void retireLocked(WorkerHandle worker, Effects fx) {
    requireLock();
    if (worker.retire()) {
      recycled++;
      fx.add(() -> retiring.accept(worker.id));
    }
  }

  /** A worker that has had its quota and holds nothing more is told to exit. */
  private void stopIfRetiredLocked(WorkerHandle worker) {
    // A worker cut off is stopped once it is reachable again, after it is told what to drop.
    if (worker.retired() && worker.holdingCount() == 0 && !worker.lost() && !worker.unreachable()) {
      worker.send(CoordinatorMessage.newBuilder().setStop(Stop.getDefaultInstance()).build());
      worker.complete();
    }
  }

  private void askToYieldLocked(ScheduledChunk chunk) {
    chunk.yieldRequested = true;
    chunk.worker.send(
        CoordinatorMessage.newBuilder()
            .setYield(Yield.newBuilder().setChunkId(chunk.chunkId).setAttempt(chunk.attempt))
            .build());
  }

  private void armTimerLocked(ScheduledChunk chunk) {
    stopTimerLocked(chunk);
    int attempt = chunk.attempt;
    chunk.timer = clock.schedule(() -> timedOut(chunk, attempt), taskTimeout.toNanos());
  }

  private static void stopTimerLocked(ScheduledChunk chunk) {
    if (chunk.timer != null) {
      chunk.timer.cancel();
      chunk.timer = null;
    }
  }

  private void requireLock() {
    if (!Thread.holdsLock(lock)) {
      throw new IllegalStateException("a scheduler transition ran without the scheduler's lock");
    }
  }

  private void checkLocked() {
    if (VALIDATE) {
      validateLocked();
    }
  }

  /**
   * Checks every invariant of the bookkeeping.
   *
   * @throws IllegalStateException naming the first one broken
   */
  void validate() {
    synchronized (lock) {
      validateLocked();
    }
  }

  private void validateLocked() {
    IdentityHashMap<ScheduledChunk, WorkerHandle> sent = new IdentityHashMap<>();
    for (WorkerHandle w : workers.values()) {
      check(!w.lost(), w + " is lost but still listed");
      check(w.credits() >= 0, w + " has negative credit " + w.credits());
      int isolated = 0;
      for (ScheduledChunk c : w.held()) {
        check(
            c.state == ScheduledChunk.State.SENT,
            "chunk " + c.chunkId + " held by " + w + " is " + c.state);
        check(c.worker == w, "chunk " + c.chunkId + " held by " + w + " names " + c.worker);
        check(sent.put(c, w) == null, "chunk " + c.chunkId + " is held twice");
        if (c.isolated) {
          isolated++;
        }
      }
      check(
          !w.exclusive() || (w.holdingCount() == 1 && isolated == 1) || !w.ready(),
          w + " is exclusive but holds " + w.holdingCount() + " chunks, " + isolated + " isolated");
      check(
          isolated == 0 || w.holdingCount() == 1 || !w.ready(),
          w + " runs an isolated chunk beside others");
      check(
          !w.unreachable() || w.holdingCount() == 0 || !w.ready(),
          w + " is unreachable but holds " + w.holdingCount() + " chunks");
      check(w.unreachable() || w.cuts().isEmpty(), w + " is reachable but has chunks cut off");
      for (WorkerHandle.Cut cut : w.cuts()) {
        ScheduledChunk c = cut.chunk();
        // The one thing that keeps the two runs' results apart.
        check(
            c.attempt > cut.attempt() || c.state.isFinal(),
            "chunk " + c.chunkId + " cut off from " + w + " still has its attempt " + c.attempt);
        check(c.worker != w, "chunk " + c.chunkId + " cut off from " + w + " is held by it");
      }
    }
    IdentityHashMap<ScheduledChunk, Boolean> queued = new IdentityHashMap<>();
    for (ScheduledChunk c : queue) {
      check(
          c.state == ScheduledChunk.State.QUEUED || c.state == ScheduledChunk.State.CANCELLED,
          "chunk " + c.chunkId + " is in the queue but " + c.state);
      check(queued.put(c, true) == null, "chunk " + c.chunkId + " is queued twice");
      check(
          c.worker == null || c.state != ScheduledChunk.State.QUEUED,
          "queued chunk " + c.chunkId + " names a worker");
      check(c.timer == null, "queued chunk " + c.chunkId + " has a timer");
      check(c.withdrawal == null, "queued chunk " + c.chunkId + " is being withdrawn");
      check(
          c.cutFrom == null
              || (c.state == ScheduledChunk.State.QUEUED
                  && c.cutFrom.unreachable()
                  && c.cutFrom.cut(c.chunkId) != null
                  && c.cutFrom.cut(c.chunkId).chunk() == c
                  && c.cutFrom.cut(c.chunkId).attempt() == c.attempt - 1),
          "queued chunk " + c.chunkId + " takes answers from " + c.cutFrom + " as cut off from it");
    }
    for (ScheduledChunk c : sent.keySet()) {
      check(
          c.tries >= 1 && c.tries <= maxAttempts && c.attempt >= c.tries,
          "chunk " + c.chunkId + " is on attempt " + c.attempt + ", try " + c.tries);
      check(c.cutFrom == null, "sent chunk " + c.chunkId + " takes answers from " + c.cutFrom);
      check(
          c.delivered >= 0 && c.delivered <= c.size,
          "chunk " + c.chunkId + " delivered " + c.delivered);
      check(
          c.withdrawal == null || c.yieldRequested,
          "chunk " + c.chunkId + " is withdrawn but not asked back");
    }
    check(broken == null || queue.isEmpty(), "the pool is broken but chunks are queued");
    boolean unserved =
        !hasReadyWorkerLocked()
            && queue.stream().anyMatch(c -> c.state == ScheduledChunk.State.QUEUED);
    check(
        noWorkersPatience == null ? starving == null : unserved == (starving != null),
        unserved
            ? "chunks are queued with no worker ready, but no wait for workers is recorded"
            : "a wait for workers is recorded, but a worker is ready or nothing is queued");
    check(
        starving == null || (starving.timer == null) == noWorkersPatience.isZero(),
        "the wait for workers is timed against a patience of " + noWorkersPatience);
  }

  private static void check(boolean holds, String broken) {
    if (!holds) {
      throw new IllegalStateException("scheduler invariant broken: " + broken);
    }
  }

  /** A wait for workers under way: chunks are queued, and no worker is ready. */
  private static final class Starving {
    final long sinceNanos;

    /** Fails the chunks still queued once the patience has passed; null with no patience. */
    SchedulerClock.Timer timer;

    Starving(long sinceNanos) {
      this.sinceNanos = sinceNanos;
    }
  }

  /** Ready and not retired: a worker that takes work now, or once it has credit. */
  private boolean hasReadyWorkerLocked() {
    for (WorkerHandle w : workers.values()) {
      if (w.ready() && !w.retired() && !w.unreachable()) {
        return true;
      }
    }
    return false;
  }

  /**
   * Drops the cancelled chunks at the head of the queue, as dispatch does, so that each is looked
   * at once however often this is asked.
   *
   * @return whether a chunk is queued
   */
  private boolean hasQueuedLocked() {
    while (!queue.isEmpty() && queue.peekFirst().state != ScheduledChunk.State.QUEUED) {
      queue.pollFirst();
    }
    return !queue.isEmpty();
  }

  private int countQueuedLocked() {
    int n = 0;
    for (ScheduledChunk c : queue) {
      if (c.state == ScheduledChunk.State.QUEUED) {
        n++;
      }
    }
    return n;
  }

  /**
   * @return e.g. "60 s", or "500 ms" for what is no whole number of seconds
   */
  private static String inWords(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
  }

  /**
   * What an event decided under the lock and must do after releasing it, in order; and what it saw,
   * told to the {@link SchedulerMetrics} first (plain fields: one event, one thread). Nothing is
   * gathered while nobody watches.
   */
  private final class Effects {
    private final SchedulerMetrics watcher = metrics;
    private List<Runnable> actions;
    private List<Object> seen;
    SchedulerMetrics.WorkerLoss lost;
    WorkerHandle lostWorker;

    void add(Runnable action) {
      if (actions == null) {
        actions = new ArrayList<>();
      }
      actions.add(action);
    }

    boolean watched() {
      return watcher != SchedulerMetrics.NONE;
    }

    private void see(Object event) {
      if (seen == null) {
        seen = new ArrayList<>(4);
      }
      seen.add(event);
    }

    void sent(ScheduledChunk chunk, WorkerHandle worker, int items, long bytes, long at) {
      if (watched()) {
        see(new SchedulerMetrics.Sent(chunk.job.id(), chunk.chunkId, worker.id, items, bytes, at));
      }
    }

    void left(ScheduledChunk chunk, SchedulerMetrics.Ending ending) {
      if (watched()) {
        long at = clock.nanoTime();
        see(
            new SchedulerMetrics.Stay(
                chunk.job.id(),
                chunk.chunkId,
                chunk.worker.id,
                chunk.sentItems,
                chunk.failedOnWorker,
                chunk.sentNanos,
                at,
                chunk.computeNanos,
                ending));
      }
    }

    /** A worker answered items of a chunk: those with a failure failed, the rest completed. */
    void answered(ScheduledChunk chunk, WorkerHandle worker, ChunkResult result) {
      if (watched()) {
        int items = result.getValues().getEndsCount();
        int failures = result.getFailuresCount();
        see(
            new Answered(
                chunk.job.id(), items - failures, failures, result.getValues().getData().size()));
        if (failures > 0) {
          see(new Errors(chunk.job.id(), worker, result.getFailuresList()));
        }
      }
    }

    void unanswered(ScheduledChunk chunk, Unanswered.Kind kind, long items) {
      if (watched() && items > 0) {
        see(new Unanswered(chunk.job.id(), kind, items));
      }
    }

    void run() {
      tell();
      if (actions != null) {
        actions.forEach(Runnable::run);
      }
    }

    private void tell() {
      SchedulerMetrics m = watcher;
      if (m == SchedulerMetrics.NONE) {
        return;
      }
      if (seen != null) {
        for (Object event : seen) {
          if (event instanceof SchedulerMetrics.Sent sent) {
            m.chunkSent(sent);
          } else if (event instanceof SchedulerMetrics.Stay stay) {
            m.chunkLeft(stay);
          } else if (event instanceof Answered a) {
            m.itemsAnswered(a.jobId, a.completed, a.failed, a.bytes);
          } else if (event instanceof Errors e) {
            m.itemErrors(e.jobId, e.worker.id, e.worker.host, e.failures);
          } else if (event instanceof Unanswered u) {
            switch (u.kind) {
              case FAILED -> m.itemsFailed(u.jobId, u.items);
              case CANCELLED -> m.itemsCancelled(u.jobId, u.items);
              case RETRIED -> m.itemsRetried(u.jobId, u.items);
            }
          }
        }
      }
      if (lost != null) {
        m.workerLost(lostWorker.id, lostWorker.host, lost);
      }
    }
  }

  private record Answered(long jobId, int completed, int failed, long bytes) {}

  private record Errors(
      long jobId, WorkerHandle worker, List<io.flotilla.proto.ItemFailure> failures) {}

  private record Unanswered(long jobId, Kind kind, long items) {
    enum Kind {
      FAILED,
      CANCELLED,
      RETRIED
    }
  }

  // ================================================================ views

  /**
   * @return workers retired after their task quota
   */
  public long recycled() {
    synchronized (lock) {
      return recycled;
    }
  }

  /**
   * @return chunks re-queued so far because their worker was lost, or cut off by the network
   */
  public long retries() {
    synchronized (lock) {
      return retries;
    }
  }

  /**
   * A worker as {@code flotilla status} shows it.
   *
   * @param id its id
   * @param host its host
   * @param pid its process id
   * @param cores its machine's processors
   * @param threads its run threads
   * @param busy run threads holding a chunk now
   * @param itemsDone items it has answered
   * @param javaVersion its Java version; empty if it did not say
   * @param flotillaVersion its Flotilla version; empty from a worker older than that field
   * @param sinceNanos when it attached, by {@link System#nanoTime()}
   * @param lastHeardNanos when its last message of any kind arrived, by {@link System#nanoTime()}
   * @param sample the resources it last reported, or null before its first report (or from a worker
   *     that sends none)
   * @param chunksDone chunks whose last result it sent
   * @param state "ready", "retiring", "unreachable", or "detached" (its stream ended, and its loss
   *     is being looked into)
   */
  public record WorkerView(
      String id,
      String host,
      long pid,
      int cores,
      int threads,
      int busy,
      long itemsDone,
      String javaVersion,
      String flotillaVersion,
      long sinceNanos,
      long lastHeardNanos,
      WorkerSample sample,
      long chunksDone,
      String state) {}

  /**
   * @return the workers attached and ready, in the order they came
   */
  public List<WorkerView> workers() {
    synchronized (lock) {
      List<WorkerView> out = new ArrayList<>(workers.size());
      for (WorkerHandle w : workers.values()) {
        out.add(
            new WorkerView(
                w.id,
                w.host,
                w.pid,
                w.cores,
                w.threads,
                Math.min(w.threads, w.holdingCount()),
                w.itemsDone(),
                w.javaVersion,
                w.flotillaVersion,
                w.sinceNanos,
                w.lastHeardNanos(),
                w.sample(),
                w.chunksDone(),
                w.state()));
      }
      return out;
    }
  }

  /**
   * Work waiting for a worker while none is ready, as {@code flotilla status} reports it.
   *
   * @param chunksWaiting chunks queued now
   * @param waited how long chunks have been queued with no worker ready
   */
  public record Starvation(int chunksWaiting, Duration waited) {}

  /**
   * @return the wait for workers under way, or null if there is none (or nobody watches for one:
   *     see {@link #watchForNoWorkers})
   */
  public Starvation starvation() {
    synchronized (lock) {
      if (starving == null) {
        return null;
      }
      return new Starvation(
          countQueuedLocked(), Duration.ofNanos(clock.nanoTime() - starving.sinceNanos));
    }
  }

  /**
   * @return chunks queued for a worker now (not those cancelled while queued, which dispatch drops)
   */
  public int queuedChunks() {
    synchronized (lock) {
      return countQueuedLocked();
    }
  }

  /**
   * @return the workers attached and ready
   */
  int readyWorkers() {
    synchronized (lock) {
      return workers.size();
    }
  }

  // ================================================================ dispatch

  private void dispatchLocked(Effects fx) {
    while (!queue.isEmpty()) {
      ScheduledChunk chunk = queue.peekFirst();
      if (chunk.state != ScheduledChunk.State.QUEUED) {
        queue.pollFirst();
        continue;
      }
      WorkerHandle worker =
          chunk.isolated
              ? pickEmptyWorkerLocked()
              : chunk.resumed ? pickWorkerWithFreeThreadLocked() : pickWorkerLocked(chunk);
      if (worker == null) {
        break;
      }
      assignLocked(chunk, worker, fx);
    }
    stealForIdleWorkersLocked();
  }

  /**
   * Work stealing: the queue is empty, so a worker with no chunk at all would sit idle while others
   * hold work. First take back a chunk still waiting in another worker's queue, the last one sent:
   * it comes back whole and goes to the idle worker. Failing that, ask the holder of the biggest
   * multi-item chunk to yield the items it has not started; they come back as a new chunk at the
   * head of the queue. At most one such request is outstanding per idle worker (every dispatch
   * comes here, and the answer takes a round trip), and a chunk is asked at most once while it
   * stays on its worker.
   */
  private void stealForIdleWorkersLocked() {
    if (!queue.isEmpty()) {
      return;
    }
    int outstanding = 0;
    for (WorkerHandle w : workers.values()) {
      for (ScheduledChunk c : w.held()) {
        if (c.yieldRequested && c.withdrawal == null) {
          outstanding++;
        }
      }
    }
    for (WorkerHandle idle : workers.values()) {
      if (!idle.ready()
          || idle.unreachable()
          || idle.retired()
          || idle.credits() == 0
          || idle.holdingCount() > 0) {
        continue;
      }
      if (outstanding > 0) {
        outstanding--;
        continue;
      }
      ScheduledChunk victim = null;
      for (WorkerHandle busy : workers.values()) {
        victim = busy.lastWaiting();
        if (victim != null) {
          victim.stolen = true;
          break;
        }
      }
      if (victim == null) {
        victim = biggestSplittableChunkLocked();
      }
      if (victim == null) {
        return;
      }
      askToYieldLocked(victim);
    }
  }

  /**
   * @return the map chunk with the most items not yet answered, more than one, not asked yet
   */
  private ScheduledChunk biggestSplittableChunkLocked() {
    ScheduledChunk victim = null;
    for (WorkerHandle busy : workers.values()) {
      for (ScheduledChunk c : busy.held()) {
        if (c.remaining() > 1
            && !c.yieldRequested
            && c.job.maps()
            && (victim == null || c.remaining() > victim.remaining())) {
          victim = c;
        }
      }
    }
    return victim;
  }

  /**
   * What a worker needs to know of a job before its first chunk: the function, or that items are
   * tasks.
   */
  private static DefineJob.Builder defineJob(JobSpec job) {
    DefineJob.Builder define =
        DefineJob.newBuilder().setJobId(job.id()).addAllBundles(job.bundles());
    return job.maps() ? define.setFunction(job.function()) : define.setCalls(true);
  }

  /**
   * The ready worker with a run thread free and the fewest chunks, for the rest of a yielded chunk.
   */
  private WorkerHandle pickWorkerWithFreeThreadLocked() {
    WorkerHandle best = null;
    for (WorkerHandle w : workers.values()) {
      if (w.canTakeWork()
          && w.holdingCount() < w.threads
          && (best == null || w.holdingCount() < best.holdingCount())) {
        best = w;
      }
    }
    return best;
  }

  /** A ready worker holding nothing, for a chunk that must run alone. */
  private WorkerHandle pickEmptyWorkerLocked() {
    for (WorkerHandle w : workers.values()) {
      if (w.canTakeWork() && w.holdingCount() == 0) {
        return w;
      }
    }
    return null;
  }

  /** The ready worker with the most credit: the least busy, so work spreads before it piles up. */
  private WorkerHandle pickWorkerLocked(ScheduledChunk chunk) {
    WorkerHandle best = null;
    long now = clock.nanoTime();
    for (WorkerHandle w : workers.values()) {
      if (w.canTakeWork()
          && w.hasRoomFor(chunk, now)
          && (best == null || w.credits() > best.credits())) {
        best = w;
      }
    }
    return best;
  }
}
