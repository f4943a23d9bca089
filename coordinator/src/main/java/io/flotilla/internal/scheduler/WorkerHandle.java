package io.flotilla.internal.scheduler;

import io.flotilla.proto.CoordinatorMessage;
import io.flotilla.proto.Sample;
import io.grpc.stub.StreamObserver;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The scheduler's view of one attached worker. Identity fields are immutable; the rest is guarded
 * by the scheduler's lock, except {@link #send}, which serialises writes to the stream on its own,
 * and what the worker's stream tells of its health ({@link #heard}, {@link #sampled}): volatile,
 * written only by the stream's callbacks (one at a time), read by anyone without the lock, so that
 * a sample a second per worker never contends with the scheduler.
 */
final class WorkerHandle {
  final String id;
  final long pid;
  final String host;
  final int threads;

  /** Processors of the worker's machine. */
  final int cores;

  /** The same identity, as results relayed to a remote client name it. */
  final io.flotilla.proto.WorkerRef ref;

  /** The worker's Java and Flotilla versions, as its Hello gave them; empty if it did not say. */
  final String javaVersion;

  final String flotillaVersion;

  /** When it attached (said Hello), by {@link System#nanoTime()}. */
  final long sinceNanos;

  /** When its last message of any kind arrived, by {@link System#nanoTime()}. */
  private volatile long lastHeardNanos;

  /** Its latest Sample, or null before the first. */
  private volatile WorkerSample sample;

  private final StreamObserver<CoordinatorMessage> out;

  // Guarded by the scheduler's lock, and changed only through the methods below, which the
  // scheduler's
  // transitions call: nothing else edits a worker's bookkeeping.
  private int credits;
  private boolean ready;
  private boolean lost;

  /**
   * The cluster finds its host unreachable: it gets no work until it is found reachable again, and
   * the chunks it held run elsewhere.
   */
  private boolean unreachable;

  /**
   * While unreachable: the chunks taken from it, by id, with the attempt it was sent and may still
   * be running; it is told to drop them once it is reachable again.
   */
  private final Map<Long, Cut> cut = new LinkedHashMap<>();

  /**
   * A chunk taken from this worker while the network cut it off.
   *
   * @param chunk the chunk, which has moved on since
   * @param attempt the attempt this worker was sent
   */
  record Cut(ScheduledChunk chunk, int attempt) {}

  /** Running an isolated chunk: receives nothing else until it is done. */
  private boolean exclusive;

  /** Chunks sent to it so far, for the task quota. */
  private int tasksSent;

  /** Has had its quota: gets nothing more, and is stopped once it holds nothing. */
  private boolean retired;

  /** Killed by the pool to stop a chunk: its death is nobody's fault, and charges no attempt. */
  private boolean killedDeliberately;

  /** Items answered, for the job service's list of workers. */
  private long itemsDone;

  /** Chunks whose last result it sent, for {@code flotilla status}. */
  private long chunksDone;

  /** The chunks it holds, running or waiting behind the running ones, in the order sent. */
  private final Map<Long, ScheduledChunk> inFlight = new LinkedHashMap<>();

  private final Set<Long> knownJobs = new HashSet<>();

  WorkerHandle(
      String id,
      long pid,
      String host,
      int threads,
      int cores,
      StreamObserver<CoordinatorMessage> out) {
    this(id, pid, host, threads, cores, "", "", System.nanoTime(), out);
  }

  /**
   * @param javaVersion the worker's Java version, or empty
   * @param flotillaVersion the worker's Flotilla version, or empty
   * @param sinceNanos when it attached, by {@link System#nanoTime()}; it was last heard then too
   */
  WorkerHandle(
      String id,
      long pid,
      String host,
      int threads,
      int cores,
      String javaVersion,
      String flotillaVersion,
      long sinceNanos,
      StreamObserver<CoordinatorMessage> out) {
    this.id = id;
    this.javaVersion = javaVersion;
    this.flotillaVersion = flotillaVersion;
    this.sinceNanos = sinceNanos;
    this.lastHeardNanos = sinceNanos;
    this.cores = cores;
    this.pid = pid;
    this.host = host;
    this.threads = threads;
    this.ref = io.flotilla.proto.WorkerRef.newBuilder().setId(id).setPid(pid).setHost(host).build();
    this.out = out;
  }

  // ---------------------------------------------------------------- health, without the lock

  /**
   * A message of any kind arrived from it. Called only by its stream's callbacks.
   *
   * @param now {@link System#nanoTime()}
   */
  void heard(long now) {
    lastHeardNanos = now;
  }

  /**
   * Keeps its latest sample, with the cores it used since the previous one. Called only by its
   * stream's callbacks, one at a time: the read and the write of {@link #sample} need no lock.
   *
   * @param now {@link System#nanoTime()}
   */
  void sampled(Sample s, long now) {
    sample = WorkerSample.of(s, now, sample);
  }

  /**
   * @return when it was last heard from, by {@link System#nanoTime()}
   */
  long lastHeardNanos() {
    return lastHeardNanos;
  }

  /**
   * @return its latest sample, or null before the first
   */
  WorkerSample sample() {
    return sample;
  }

  // ---------------------------------------------------------------- bookkeeping, under the lock

  /** Announced itself, or sent more credit. */
  void addCredits(int more) {
    credits += more;
  }

  void markReady() {
    ready = true;
  }

  /** Its stream ended: no more work while its death is looked into. */
  void detach() {
    ready = false;
  }

  /** Being killed to stop a chunk: no more work, and its death charges nobody. */
  void condemn() {
    killedDeliberately = true;
    ready = false;
  }

  /**
   * @return whether it was newly marked unreachable
   */
  boolean markUnreachable() {
    boolean first = !unreachable;
    unreachable = true;
    return first;
  }

  /** Reachable again: it may take work, once told to drop the chunks taken from it. */
  void markReachable() {
    unreachable = false;
  }

  /**
   * Forgets the chunks taken from it while unreachable: it has been told to drop them, or is lost.
   *
   * @return those chunks
   */
  java.util.List<Cut> dropCuts() {
    java.util.List<Cut> dropped = java.util.List.copyOf(cut.values());
    cut.clear();
    return dropped;
  }

  /** Remembers a chunk taken from it while unreachable, at the attempt it was sent. */
  void cutOff(ScheduledChunk chunk) {
    cut.put(chunk.chunkId, new Cut(chunk, chunk.attempt));
  }

  /** Its run of a chunk taken from it is over (it sent the last piece): nothing to drop there. */
  void uncut(long chunkId) {
    cut.remove(chunkId);
  }

  /**
   * @return whether it was newly marked lost
   */
  boolean markLost() {
    if (lost) {
      return false;
    }
    lost = true;
    return true;
  }

  /**
   * @return whether it had not had its quota before
   */
  boolean retire() {
    boolean first = !retired;
    retired = true;
    return first;
  }

  /**
   * Takes a chunk: spends a credit, and counts it towards the task quota.
   *
   * @return the chunks sent to it so far
   */
  int hold(ScheduledChunk chunk) {
    inFlight.put(chunk.chunkId, chunk);
    credits--;
    exclusive = chunk.isolated;
    return ++tasksSent;
  }

  /**
   * Gives a chunk up.
   *
   * @param ran whether it counts towards the task quota (a chunk taken back unstarted does not)
   */
  void release(ScheduledChunk chunk, boolean ran) {
    if (inFlight.remove(chunk.chunkId) == null) {
      return;
    }
    if (chunk.isolated) {
      exclusive = false;
    }
    if (!ran) {
      tasksSent--;
    }
  }

  void answered(int items) {
    itemsDone += items;
  }

  /** It sent the last result of a chunk. */
  void chunkDone() {
    chunksDone++;
  }

  /**
   * @return whether the job's function must be sent before its first chunk
   */
  boolean learns(long jobId) {
    return knownJobs.add(jobId);
  }

  /**
   * @return whether it knew the job, which it now forgets
   */
  boolean forgets(long jobId) {
    return knownJobs.remove(jobId);
  }

  // ---------------------------------------------------------------- reading, under the lock

  int credits() {
    return credits;
  }

  boolean ready() {
    return ready;
  }

  boolean lost() {
    return lost;
  }

  boolean unreachable() {
    return unreachable;
  }

  /**
   * @return the chunk with this id taken from it while it was unreachable, or null
   */
  Cut cut(long chunkId) {
    return cut.get(chunkId);
  }

  /**
   * @return the chunks taken from it while it was unreachable; read-only
   */
  java.util.Collection<Cut> cuts() {
    return java.util.Collections.unmodifiableCollection(cut.values());
  }

  boolean exclusive() {
    return exclusive;
  }

  boolean retired() {
    return retired;
  }

  boolean killedDeliberately() {
    return killedDeliberately;
  }

  long itemsDone() {
    return itemsDone;
  }

  long chunksDone() {
    return chunksDone;
  }

  /**
   * @return its state as {@code flotilla status} names it: "unreachable" (the cluster cannot reach
   *     its host), "retiring" (had its quota or keeps too much heap: it finishes what it holds,
   *     then stops), "detached" (its stream ended; its loss is being looked into) or "ready"
   */
  String state() {
    if (unreachable) {
      return "unreachable";
    }
    if (retired) {
      return "retiring";
    }
    return ready ? "ready" : "detached";
  }

  /**
   * @return its chunks, in the order sent; read-only
   */
  java.util.Collection<ScheduledChunk> held() {
    return java.util.Collections.unmodifiableCollection(inFlight.values());
  }

  /**
   * @return the chunk it holds with this id, or null
   */
  ScheduledChunk holding(long chunkId) {
    return inFlight.get(chunkId);
  }

  int holdingCount() {
    return inFlight.size();
  }

  /**
   * @return whether the chunk waits behind the ones it is running, as far as the scheduler can tell
   *     (a worker starts its chunks in the order sent, one per run thread); a chunk that has
   *     answered anything has started
   */
  boolean isWaiting(ScheduledChunk chunk) {
    if (chunk.delivered > 0) {
      return false;
    }
    int position = 0;
    for (ScheduledChunk held : inFlight.values()) {
      if (held == chunk) {
        return position >= threads;
      }
      position++;
    }
    return false;
  }

  /**
   * A chunk this quick to run counts as tiny. A worker turning tiny chunks around may queue more
   * than one chunk beyond its run threads: one more for each tiny result in a row (a slow result
   * starts it over), up to its credit. A stream of small tasks then keeps it busy without a round
   * trip per task; a worker whose chunks take longer, or that has been quiet for a while, holds one
   * waiting chunk, and the rest wait in the coordinator, where they can still be cancelled and go
   * to whichever worker frees up first. The streak says how the worker has been doing, not what the
   * next chunk costs: a long one sent during a streak waits behind the others, until an idle worker
   * takes it back.
   */
  static final long TINY_CHUNK_NANOS = 200_000;

  /** The deeper queue lasts only while tiny results keep coming: one this old is stale news. */
  static final long TINY_STREAK_NANOS = 1_000_000;

  /** Nor may a worker hold more than this much item data in all: a deep queue never hoards data. */
  static final long DEEP_QUEUE_BYTES = 256 * 1024;

  /** More than any worker's credit. */
  private static final int MAX_STREAK = 1 << 16;

  /** Tiny results in a row: how many chunks may wait beyond one per run thread plus one. */
  int tinyStreak;

  /** When the last tiny result arrived, by {@link System#nanoTime()}. */
  long lastTinyNanos;

  /**
   * @return whether the scheduler may send this worker another chunk now; guarded by its lock
   */
  boolean canTakeWork() {
    return ready && !unreachable && !exclusive && !retired && credits > 0;
  }

  /**
   * @param chunk a chunk about to be sent
   * @param now {@link System#nanoTime()}
   * @return whether it may wait here behind the chunks this worker holds; guarded by the lock
   */
  boolean hasRoomFor(ScheduledChunk chunk, long now) {
    int waiting = inFlight.size() - threads;
    if (waiting < 1) {
      return true;
    }
    if (waiting > tinyStreak || now - lastTinyNanos > TINY_STREAK_NANOS) {
      return false;
    }
    long bytes = chunk.items.getData().size();
    for (ScheduledChunk held : inFlight.values()) {
      bytes += held.items.getData().size();
    }
    return bytes <= DEEP_QUEUE_BYTES;
  }

  /**
   * Counts a piece of results towards the streak of tiny ones; guarded by the lock.
   *
   * @param computeNanos how long its items took to run
   * @param now {@link System#nanoTime()}
   */
  void ran(long computeNanos, long now) {
    if (computeNanos <= TINY_CHUNK_NANOS) {
      tinyStreak = Math.min(tinyStreak + 1, MAX_STREAK);
      lastTinyNanos = now;
    } else {
      tinyStreak = 0;
    }
  }

  /**
   * @return a chunk waiting in this worker's queue behind its running ones, the last sent, or null
   */
  ScheduledChunk lastWaiting() {
    ScheduledChunk last = null;
    int position = 0;
    for (ScheduledChunk held : inFlight.values()) {
      if (position++ >= threads && held.delivered == 0 && !held.yieldRequested) {
        last = held;
      }
    }
    return last;
  }

  /**
   * Sends a message; gRPC stream observers are not thread-safe. A broken stream is left to onError.
   */
  void send(CoordinatorMessage message) {
    synchronized (out) {
      try {
        out.onNext(message);
      } catch (RuntimeException e) {
        // The stream is already closed: the connection's onError reports the loss.
      }
    }
  }

  void complete() {
    synchronized (out) {
      try {
        out.onCompleted();
      } catch (RuntimeException ignored) {
        // already closed
      }
    }
  }

  @Override
  public String toString() {
    return "worker " + id + " (pid " + pid + " on " + host + ")";
  }
}
