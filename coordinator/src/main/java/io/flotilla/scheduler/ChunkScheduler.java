package io.flotilla.scheduler;

import io.flotilla.BrokenPoolException;
import io.flotilla.proto.Chunk;
import io.flotilla.proto.ChunkResult;
import io.flotilla.proto.CoordinatorMessage;
import io.flotilla.proto.DefineJob;
import io.flotilla.proto.ForgetJob;
import io.flotilla.proto.Stop;
import io.flotilla.proto.Yield;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands queued chunks to workers that have credit, matches results to chunks, and re-queues the chunks of
 * a worker that is lost. See the package documentation for the data flow.
 *
 * <p>Threading: all state is guarded by one lock, held only for bookkeeping and non-blocking sends
 * (gRPC buffers them). Callbacks into the map and future machinery (a chunk's result or failure) are
 * always made after the lock is released, so that a callback may submit or cancel without deadlock.
 */
public final class ChunkScheduler {
  private static final Logger log = LoggerFactory.getLogger(ChunkScheduler.class);

  private final Object lock = new Object();
  private final ArrayDeque<ScheduledChunk> queue = new ArrayDeque<>(); // guarded by lock
  private final Map<String, WorkerHandle> workers = new LinkedHashMap<>(); // guarded by lock
  private final int maxAttempts;
  private Throwable broken; // guarded by lock
  private long retries; // guarded by lock

  private final int maxTasksPerWorker;
  private final Consumer<String> retiring;
  private long recycled; // guarded by lock
  /** Retirements decided under the lock, announced after it is released. */
  private final List<String> retirements = new ArrayList<>(); // guarded by lock

  private final Duration taskTimeout;
  private final Consumer<String> kill;
  private volatile boolean strict;
  private final ScheduledExecutorService timers;

  /** @param maxAttempts how many workers may die running one chunk before it fails */
  public ChunkScheduler(int maxAttempts) {
    this(maxAttempts, 0, id -> {}, null, id -> {});
  }

  /**
   * @param maxAttempts how many workers may die running one chunk before it fails
   * @param maxTasksPerWorker chunks a worker gets before it is replaced, or 0 for no limit
   * @param retiring told (without the lock held) the id of a worker that has had its quota, so that a
   *     replacement can start while it finishes
   * @param taskTimeout how long a chunk may run once started, or {@code null} for no limit
   * @param kill kills a worker's process (without the lock held), to stop a chunk it is running
   */
  public ChunkScheduler(
      int maxAttempts,
      int maxTasksPerWorker,
      Consumer<String> retiring,
      Duration taskTimeout,
      Consumer<String> kill) {
    this.maxAttempts = maxAttempts;
    this.maxTasksPerWorker = maxTasksPerWorker;
    this.retiring = retiring;
    this.taskTimeout = taskTimeout;
    this.kill = kill;
    this.timers =
        taskTimeout == null
            ? null
            : Executors.newSingleThreadScheduledExecutor(
                r -> {
                  Thread t = new Thread(r, "flotilla-task-timeouts");
                  t.setDaemon(true);
                  return t;
                });
  }

  /**
   * Python's semantics instead of self-healing: the first worker to die holding work breaks the pool,
   * and every pending and later chunk fails with {@link BrokenPoolException}, caused by the crash.
   *
   * @param onBreak told once, when the pool breaks
   */
  public void strict(Consumer<BrokenPoolException> onBreak) {
    this.onStrictBreak = onBreak;
    strict = true;
  }

  private volatile Consumer<BrokenPoolException> onStrictBreak = b -> {};

  /** Stops the task-timeout timer thread. */
  public void close() {
    if (timers != null) {
      timers.shutdownNow();
    }
  }

  // ---------------------------------------------------------------- chunks

  void submit(ScheduledChunk chunk, boolean front) {
    Throwable refused;
    synchronized (lock) {
      refused = broken;
      if (refused == null) {
        if (front) {
          queue.addFirst(chunk);
        } else {
          queue.addLast(chunk);
        }
        dispatchLocked();
      } else {
        chunk.state = ScheduledChunk.State.FAILED;
      }
    }
    if (refused != null) {
      chunk.onFailure.accept(refused, chunk.delivered);
    }
    announceRetirements();
  }

  /** Asks the worker running a chunk to hand back its unstarted items, once per attempt. */
  void requestYield(ScheduledChunk chunk) {
    synchronized (lock) {
      if (chunk.state == ScheduledChunk.State.SENT && !chunk.yieldRequested) {
        chunk.yieldRequested = true;
        sendYieldLocked(chunk);
      }
    }
  }

  int delivered(ScheduledChunk chunk) {
    synchronized (lock) {
      return chunk.delivered;
    }
  }

  boolean cancel(ScheduledChunk chunk) {
    synchronized (lock) {
      if (chunk.state != ScheduledChunk.State.QUEUED) {
        return false;
      }
      // Left in the queue and skipped at dispatch: removal from the middle would make mass
      // cancellation quadratic.
      chunk.state = ScheduledChunk.State.CANCELLED;
      return true;
    }
  }

  /**
   * Stops a chunk whether or not it runs: a queued one is cancelled; a running one's worker is killed,
   * which is the only safe way to stop a thread, and its other chunks go back to the queue uncharged.
   */
  boolean abort(ScheduledChunk chunk) {
    String victim;
    synchronized (lock) {
      if (chunk.state == ScheduledChunk.State.QUEUED) {
        chunk.state = ScheduledChunk.State.CANCELLED;
        return true;
      }
      if (chunk.state != ScheduledChunk.State.SENT) {
        return false;
      }
      chunk.state = ScheduledChunk.State.CANCELLED;
      victim = stopWorkerOfLocked(chunk);
    }
    kill.accept(victim);
    return true;
  }

  /** Takes a SENT chunk off its worker, which is then killed; returns that worker's id. */
  private String stopWorkerOfLocked(ScheduledChunk chunk) {
    WorkerHandle worker = chunk.worker;
    worker.inFlight.remove(chunk.chunkId);
    worker.killedDeliberately = true;
    worker.ready = false;
    if (chunk.timer != null) {
      chunk.timer.cancel(false);
    }
    return worker.id;
  }

  /**
   * A worker's stream ended: it gets no more work from now on, while its death is being looked into
   * (which can take seconds); {@link #workerLost} settles its chunks afterwards.
   */
  void workerDetached(WorkerHandle worker) {
    synchronized (lock) {
      worker.ready = false;
    }
  }

  /** A worker began a chunk: with a task timeout, its clock starts now. */
  void started(WorkerHandle worker, long chunkId, int attempt) {
    if (timers == null) {
      return;
    }
    synchronized (lock) {
      ScheduledChunk chunk = worker.inFlight.get(chunkId);
      if (chunk == null || chunk.attempt != attempt || chunk.state != ScheduledChunk.State.SENT) {
        return;
      }
      chunk.timer = armTimer(chunk, attempt);
    }
  }

  private java.util.concurrent.ScheduledFuture<?> armTimer(ScheduledChunk chunk, int attempt) {
    return timers.schedule(() -> timedOut(chunk, attempt), taskTimeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  private void timedOut(ScheduledChunk chunk, int attempt) {
    String victim;
    WorkerHandle worker;
    boolean handBack;
    synchronized (lock) {
      if (chunk.state != ScheduledChunk.State.SENT || chunk.attempt != attempt) {
        return;
      }
      worker = chunk.worker;
      // Several map items: only one of them is hung. Hand the chunk back to be split, like a poison
      // chunk, until the slow item is alone and times out by itself.
      handBack = chunk.remaining() > 1 && chunk.job.maps();
      chunk.state = handBack ? ScheduledChunk.State.DONE : ScheduledChunk.State.FAILED;
      victim = stopWorkerOfLocked(chunk);
    }
    log.warn("chunk {} ran longer than {}; killing worker {} to stop it", chunk.chunkId, taskTimeout, victim);
    kill.accept(victim);
    if (handBack) {
      chunk.onSuspect.accept(worker, chunk.delivered);
      return;
    }
    TimeoutException timeout =
        new TimeoutException(
            (!chunk.job.maps() ? "task" : "chunk of items from " + chunk.firstUnanswered())
                + " ran longer than the task timeout of "
                + taskTimeout
                + "; worker "
                + victim
                + " was killed to stop it and is being replaced");
    chunk.onFailure.accept(timeout, chunk.delivered);
  }

  /** Tells every worker that knows the job to drop its queued chunks and its function. */
  void forgetJob(long jobId) {
    if (jobId == JobSpec.CALL.id()) {
      return;
    }
    CoordinatorMessage forget =
        CoordinatorMessage.newBuilder().setForgetJob(ForgetJob.newBuilder().setJobId(jobId)).build();
    synchronized (lock) {
      for (WorkerHandle w : workers.values()) {
        if (w.knownJobs.remove(jobId)) {
          w.send(forget);
        }
      }
    }
  }

  // ---------------------------------------------------------------- workers

  void workerReady(WorkerHandle worker, int credits) {
    synchronized (lock) {
      if (worker.lost) {
        return;
      }
      worker.ready = true;
      worker.credits += credits;
      workers.put(worker.id, worker);
      dispatchLocked();
    }
    announceRetirements();
  }

  void credit(WorkerHandle worker, int credits) {
    synchronized (lock) {
      worker.credits += credits;
      dispatchLocked();
    }
    announceRetirements();
  }

  void result(WorkerHandle worker, ChunkResult result) {
    ScheduledChunk chunk;
    int base;
    boolean partial = false;
    boolean takenBack = false;
    synchronized (lock) {
      worker.credits += result.getCredits();
      chunk = worker.inFlight.get(result.getChunkId());
      if (chunk == null || chunk.attempt != result.getAttempt()) {
        log.debug(
            "dropping late or duplicate result of chunk {} attempt {} from {}",
            result.getChunkId(),
            result.getAttempt(),
            worker);
        dispatchLocked();
        return;
      }
      base = chunk.delivered;
      worker.itemsDone += result.getValues().getEndsCount();
      if (result.getValues().getEndsCount() > 0) {
        worker.ran(result.getComputeNanos(), System.nanoTime());
      }
      if (chunk.stolen && handedBackWhole(result)) {
        // Taken back from the worker's queue for an idle worker: nothing ran, nothing to report, and
        // it does not count towards the worker's task quota.
        takenBack = true;
        worker.inFlight.remove(result.getChunkId());
        if (chunk.timer != null) {
          chunk.timer.cancel(false);
          chunk.timer = null;
        }
        if (maxTasksPerWorker > 0) {
          worker.tasksSent--;
        }
        chunk.state = ScheduledChunk.State.QUEUED;
        chunk.worker = null;
        chunk.yieldRequested = false;
        queue.addFirst(chunk);
        stopIfRetiredLocked(worker);
        dispatchLocked();
      } else if (result.getPartial()) {
        // More of the chunk follows from the same run: it stays in flight, holding its credit.
        chunk.delivered += result.getValues().getEndsCount();
        partial = true;
        if (chunk.timer != null) {
          // The task timeout counts from the last piece: a chunk of many items is not one task.
          chunk.timer.cancel(false);
          chunk.timer = armTimer(chunk, chunk.attempt);
        }
      } else {
        worker.inFlight.remove(result.getChunkId());
        if (chunk.isolated) {
          worker.exclusive = false;
        }
        if (result.getHeavy() && !worker.retired) {
          log.info("{} keeps too much heap after collections; replacing it", worker);
          retireLocked(worker);
        }
        chunk.state = ScheduledChunk.State.DONE;
        if (chunk.timer != null) {
          chunk.timer.cancel(false);
        }
        stopIfRetiredLocked(worker);
        dispatchLocked();
      }
    }
    if (!partial) {
      announceRetirements();
    }
    if (!takenBack) {
      chunk.onResult.accept(result, worker, base);
    }
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
    List<ScheduledChunk> exhausted = new ArrayList<>();
    List<ScheduledChunk> split = new ArrayList<>();
    ScheduledChunk breaking = null;
    synchronized (lock) {
      if (worker.lost) {
        return;
      }
      worker.lost = true;
      workers.remove(worker.id);
      List<ScheduledChunk> held = new ArrayList<>(worker.inFlight.values());
      worker.inFlight.clear();
      if (strict && !held.isEmpty() && !worker.killedDeliberately) {
        for (ScheduledChunk chunk : held) {
          chunk.state = ScheduledChunk.State.FAILED;
        }
        exhausted.addAll(held);
        breaking = held.get(0);
        held.clear();
      }
      // A worker starts its chunks in the order they were sent, one per run thread, so only the first
      // `threads` of them can have been running when it died; the rest were waiting behind them. Only
      // the former are charged an attempt: a poisonous item must not use up its neighbours' attempts.
      // The guess can be wrong (a finished chunk's result may die unsent in the worker's buffers), so
      // every chunk re-queued runs isolated next time: alone on its worker, where a death is its own.
      // Re-queue in reverse so that addFirst restores their original order at the head.
      for (int i = held.size() - 1; i >= 0; i--) {
        ScheduledChunk chunk = held.get(i);
        boolean charged = !worker.killedDeliberately && (chunk.isolated || i < worker.threads);
        if (charged && chunk.remaining() > 1 && chunk.job.maps()) {
          // Hunting the poison item: the map gets the chunk back unstarted, as from a yield, and runs
          // it again as two isolated halves, so that one bad item cannot fail its neighbours.
          chunk.state = ScheduledChunk.State.DONE;
          split.add(chunk);
          retries++;
          continue;
        }
        if (charged && chunk.attempt >= maxAttempts) {
          chunk.state = ScheduledChunk.State.FAILED;
          exhausted.add(chunk);
        } else {
          if (charged) {
            chunk.attempt++;
          }
          chunk.state = ScheduledChunk.State.QUEUED;
          chunk.worker = null;
          chunk.yieldRequested = false;
          chunk.isolated = true;
          if (chunk.timer != null) {
            chunk.timer.cancel(false);
            chunk.timer = null;
          }
          queue.addFirst(chunk);
          retries++;
        }
      }
      if (!held.isEmpty()) {
        log.warn(
            "{} lost with {} chunks in flight; {} re-queued, {} split to find a poison item, {} out of"
                + " attempts",
            worker,
            held.size(),
            held.size() - exhausted.size() - split.size(),
            split.size(),
            exhausted.size());
      }
      dispatchLocked();
    }
    announceRetirements();
    for (ScheduledChunk chunk : split) {
      chunk.onSuspect.accept(worker, chunk.delivered);
    }
    if (breaking != null) {
      Throwable crash = why.apply(breaking);
      BrokenPoolException broken =
          new BrokenPoolException("a worker died with tasks in flight, and the pool is strict: " + crash.getMessage(), crash);
      // The pool is marked broken before any future fails, so code reacting to a failed future
      // sees its next submit() rejected.
      onStrictBreak.accept(broken);
      breakPool(broken);
      for (ScheduledChunk chunk : exhausted) {
        chunk.onFailure.accept(broken, chunk.delivered);
      }
      return;
    }
    for (ScheduledChunk chunk : exhausted) {
      chunk.onFailure.accept(why.apply(chunk), chunk.delivered);
    }
  }

  /** Fails every queued chunk, and every later submission, with {@code cause}. */
  public void breakPool(Throwable cause) {
    List<ScheduledChunk> failed = new ArrayList<>();
    synchronized (lock) {
      if (broken != null) {
        return;
      }
      broken = cause;
      for (ScheduledChunk chunk : queue) {
        if (chunk.state == ScheduledChunk.State.QUEUED) {
          chunk.state = ScheduledChunk.State.FAILED;
          failed.add(chunk);
        }
      }
      queue.clear();
      for (WorkerHandle w : workers.values()) {
        for (ScheduledChunk chunk : w.inFlight.values()) {
          chunk.state = ScheduledChunk.State.FAILED;
          failed.add(chunk);
        }
        w.inFlight.clear();
      }
    }
    for (ScheduledChunk chunk : failed) {
      chunk.onFailure.accept(cause, chunk.delivered);
    }
  }

  /** No more work for this worker; a replacement starts now, and it is stopped once drained. */
  private void retireLocked(WorkerHandle worker) {
    worker.retired = true;
    recycled++;
    retirements.add(worker.id);
  }

  /** A worker that has had its quota and holds nothing more is told to exit. */
  private void stopIfRetiredLocked(WorkerHandle worker) {
    if (worker.retired && worker.inFlight.isEmpty() && !worker.lost) {
      worker.send(CoordinatorMessage.newBuilder().setStop(Stop.getDefaultInstance()).build());
      worker.complete();
    }
  }

  /** Tells the fleet, outside the lock, which workers have had their quota. */
  private void announceRetirements() {
    List<String> ids;
    synchronized (lock) {
      if (retirements.isEmpty()) {
        return;
      }
      ids = new ArrayList<>(retirements);
      retirements.clear();
    }
    ids.forEach(retiring);
  }

  /** @return workers retired after their task quota */
  public long recycled() {
    synchronized (lock) {
      return recycled;
    }
  }

  /** @return chunks re-queued so far because their worker was lost */
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
   */
  public record WorkerView(String id, String host, long pid, int cores, int threads, int busy, long itemsDone) {}

  /** @return the workers attached and ready, in the order they came */
  public List<WorkerView> workers() {
    synchronized (lock) {
      List<WorkerView> out = new ArrayList<>(workers.size());
      for (WorkerHandle w : workers.values()) {
        out.add(
            new WorkerView(
                w.id, w.host, w.pid, w.cores, w.threads, Math.min(w.threads, w.inFlight.size()), w.itemsDone));
      }
      return out;
    }
  }

  /** @return the workers attached and ready */
  int readyWorkers() {
    synchronized (lock) {
      return workers.size();
    }
  }

  // ---------------------------------------------------------------- dispatch

  private void dispatchLocked() {
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
        return;
      }
      worker.exclusive = chunk.isolated;
      queue.pollFirst();
      if (chunk.job != JobSpec.CALL && worker.knownJobs.add(chunk.job.id())) {
        worker.send(
            CoordinatorMessage.newBuilder()
                .setDefineJob(
                    defineJob(chunk.job))
                .build());
      }
      chunk.state = ScheduledChunk.State.SENT;
      chunk.worker = worker;
      chunk.stolen = false;
      worker.inFlight.put(chunk.chunkId, chunk);
      worker.credits--;
      if (maxTasksPerWorker > 0 && ++worker.tasksSent >= maxTasksPerWorker) {
        retireLocked(worker);
      }
      worker.send(
          CoordinatorMessage.newBuilder()
              .setChunk(
                  Chunk.newBuilder()
                      .setJobId(chunk.job.id())
                      .setChunkId(chunk.chunkId)
                      .setAttempt(chunk.attempt)
                      .setFirstIndex(Math.max(0, chunk.firstUnanswered()))
                      .setItems(chunk.unanswered())
                      .setReportStart(timers != null))
              .build());
    }
    stealForIdleWorkersLocked();
  }

  /**
   * Work stealing: the queue is empty, so a worker with no chunk at all would sit idle while others hold
   * work. First take back a chunk still waiting in another worker's queue, the last one sent: it comes
   * back whole and goes to the idle worker. Failing that, ask the holder of the biggest multi-item chunk
   * to yield the items it has not started; they come back as a new chunk at the head of the queue. At
   * most one such request is outstanding per idle worker (every dispatch comes here, and the answer
   * takes a round trip), and a chunk is asked at most once while it stays on its worker.
   */
  private void stealForIdleWorkersLocked() {
    int outstanding = 0;
    for (WorkerHandle w : workers.values()) {
      for (ScheduledChunk c : w.inFlight.values()) {
        if (c.yieldRequested) {
          outstanding++;
        }
      }
    }
    for (WorkerHandle idle : workers.values()) {
      if (!idle.ready || idle.retired || idle.credits == 0 || !idle.inFlight.isEmpty()) {
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
      victim.yieldRequested = true;
      sendYieldLocked(victim);
    }
  }

  /** @return the map chunk with the most items not yet answered, more than one, not asked yet */
  private ScheduledChunk biggestSplittableChunkLocked() {
    ScheduledChunk victim = null;
    for (WorkerHandle busy : workers.values()) {
      for (ScheduledChunk c : busy.inFlight.values()) {
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

  private static void sendYieldLocked(ScheduledChunk chunk) {
    chunk.worker.send(
        CoordinatorMessage.newBuilder()
            .setYield(Yield.newBuilder().setChunkId(chunk.chunkId).setAttempt(chunk.attempt))
            .build());
  }

  /** What a worker needs to know of a job before its first chunk: the function, or that items are tasks. */
  private static DefineJob.Builder defineJob(JobSpec job) {
    DefineJob.Builder define = DefineJob.newBuilder().setJobId(job.id()).addAllBundles(job.bundles());
    return job.maps() ? define.setFunction(job.function()) : define.setCalls(true);
  }

  /** The ready worker with a run thread free and the fewest chunks, for the rest of a yielded chunk. */
  private WorkerHandle pickWorkerWithFreeThreadLocked() {
    WorkerHandle best = null;
    for (WorkerHandle w : workers.values()) {
      if (w.canTakeWork()
          && w.inFlight.size() < w.threads
          && (best == null || w.inFlight.size() < best.inFlight.size())) {
        best = w;
      }
    }
    return best;
  }

  /** A ready worker holding nothing, for a chunk that must run alone. */
  private WorkerHandle pickEmptyWorkerLocked() {
    for (WorkerHandle w : workers.values()) {
      if (w.canTakeWork() && w.inFlight.isEmpty()) {
        return w;
      }
    }
    return null;
  }

  /** The ready worker with the most credit: the least busy, so work spreads before it piles up. */
  private WorkerHandle pickWorkerLocked(ScheduledChunk chunk) {
    WorkerHandle best = null;
    long now = System.nanoTime();
    for (WorkerHandle w : workers.values()) {
      if (w.canTakeWork() && w.hasRoomFor(chunk, now) && (best == null || w.credits > best.credits)) {
        best = w;
      }
    }
    return best;
  }
}
