package io.flotilla.internal.jobs;

import com.google.protobuf.ByteString;
import io.flotilla.RemoteException;
import io.flotilla.internal.map.ChunkBackend;
import io.flotilla.internal.map.ChunkOutcome;
import io.flotilla.internal.map.ChunkSizer;
import io.flotilla.internal.map.UnreachedItems;
import io.flotilla.proto.ItemError;
import io.flotilla.proto.JobState;
import io.flotilla.proto.JobStatus;
import io.flotilla.proto.Result;
import io.grpc.Status;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One job of the job service: inputs numbered as they arrive, each run as part of a chunk on the
 * shared scheduler, and a result kept for every input until the job expires.
 *
 * <pre>
 *  SendInputs ──accept(first, items)──► chunks of ChunkSizer size ──► ChunkBackend (scheduler, workers)
 *                                                                          │ outcomes, in pieces,
 *                                                                          ▼ on backend threads
 *  Results streams ◄──wake── watchers ◄── record(index, value | error) ◄── onOutcome
 *       read(ordered, from): by input index, or by position in the completion log
 * </pre>
 *
 * <p>Contract: every accepted input gets exactly one result: its value, the error its function
 * raised, or a "Cancelled" error if the job was cancelled before it ran. The job is finished once
 * its inputs are closed and every one has its result; nothing is lost when a client's stream
 * breaks, since the job, not the stream, owns the inputs and results.
 *
 * <p>Threading: every method may be called from any thread. State is guarded by {@code this};
 * watchers and the input streams' room callbacks are called outside the lock (and once the job is
 * cancelled, no stream waits for room, so the cancelled results filed under the lock call nobody).
 *
 * <p>Implementation notes: a chunk that yields (an idle worker took its rest) or is handed back as
 * suspect (its worker died running it) ends with an outcome short of its last item; the rest is run
 * again as two halves by the rule of {@link UnreachedItems}, which {@code MapRun} follows too, so
 * the scheduler's isolation of poison items and its attempt counting work here unchanged. Items the
 * backend cancels before they start never get an outcome, so {@link #cancel} marks them itself.
 */
final class ServiceJob {
  final String id;
  final String owner;
  final String function;
  final String idempotencyKey;
  final long createdMs;

  /**
   * Reads inputs as the function will, to refuse bad ones; null for shipped code the coordinator
   * never loads.
   */
  final io.flotilla.internal.functions.NamedFunction checker;

  private final ChunkBackend backend;
  private final ChunkBackend.JobRef ref;
  private final ChunkSizer sizer;
  private final java.util.function.IntSupplier parallelism;
  private final int maxPending;
  private final int maxResultBytes;
  private final long retentionMs;

  private final Set<Runnable> watchers = ConcurrentHashMap.newKeySet();

  // guarded by this
  private final ArrayList<Result> byIndex = new ArrayList<>(); // null until answered
  private long[] completionLog = new long[64];
  private int logged;
  private long succeeded;
  private long failed;
  private long cancelledItems;
  private long keptBytes;
  private boolean inputsClosed;
  private boolean cancelled;
  private long finishedMs;
  private long lastInputMs;
  private int inputStreams;
  private final Set<Part> running = new HashSet<>();
  // Input streams waiting for room, each to be asked once for its next batch.
  private List<Runnable> roomWaiters = new ArrayList<>();

  ServiceJob(
      String id,
      String owner,
      String function,
      String idempotencyKey,
      io.flotilla.internal.functions.NamedFunction checker,
      ChunkBackend backend,
      ChunkBackend.JobRef ref,
      java.util.function.IntSupplier parallelism,
      JobLimits limits) {
    this.id = id;
    this.owner = owner;
    this.function = function;
    this.idempotencyKey = idempotencyKey;
    this.checker = checker;
    this.backend = backend;
    this.ref = ref;
    this.parallelism = parallelism;
    this.sizer = new ChunkSizer(0, Math.max(1, parallelism.getAsInt()), -1);
    this.maxPending = limits.maxPendingPerJob();
    // A result must fit a message that clients accept with the same limits as the service's
    // requests.
    this.maxResultBytes = limits.maxMessageBytes() - 1024;
    this.retentionMs = limits.retention().toMillis();
    this.createdMs = System.currentTimeMillis();
    this.lastInputMs = createdMs;
  }

  /** A run of consecutive inputs handed to the backend as one chunk. */
  private static final class Part {
    final long first;
    final List<byte[]> items;
    ChunkBackend.ChunkTicket ticket;

    Part(long first, List<byte[]> items) {
      this.first = first;
      this.items = items;
    }
  }

  /**
   * Takes a batch of inputs, already checked against the function, and starts running them.
   *
   * @param first the index the client says the batch starts at
   * @param items the inputs
   * @param end whether no inputs follow
   * @throws io.grpc.StatusException FAILED_PRECONDITION if the job takes no more inputs or the
   *     batch does not start where the job's inputs end
   */
  void accept(long first, List<byte[]> items, boolean end) throws io.grpc.StatusException {
    List<Part> parts = new ArrayList<>();
    synchronized (this) {
      if (cancelled) {
        throw Status.FAILED_PRECONDITION
            .withDescription("job " + id + " was cancelled; it takes no more inputs")
            .asException();
      }
      if (inputsClosed) {
        throw Status.FAILED_PRECONDITION
            .withDescription("job " + id + " has had its end of inputs; it takes no more")
            .asException();
      }
      if (first != byIndex.size()) {
        throw Status.FAILED_PRECONDITION
            .withDescription(
                "job "
                    + id
                    + " has received "
                    + byIndex.size()
                    + " inputs, so the next batch starts at index "
                    + byIndex.size()
                    + ", not "
                    + first)
            .asException();
      }
      lastInputMs = System.currentTimeMillis();
      // A batch is spread over every worker thread at least: a few slow inputs must not queue
      // behind
      // each other in one chunk while other threads idle.
      int threads = Math.max(1, parallelism.getAsInt());
      int spread = Math.max(1, (items.size() + threads - 1) / threads);
      int at = 0;
      while (at < items.size()) {
        int n = Math.min(items.size() - at, Math.min(spread, sizer.next()));
        Part part = new Part(byIndex.size() + at, new ArrayList<>(items.subList(at, at + n)));
        parts.add(part);
        running.add(part);
        at += n;
      }
      for (int i = 0; i < items.size(); i++) {
        byIndex.add(null);
      }
      if (end) {
        inputsClosed = true;
      }
    }
    for (Part part : parts) {
      launch(part, ChunkBackend.Start.FRESH);
    }
    if (end) {
      finishIfDone();
    }
  }

  private void launch(Part part, ChunkBackend.Start start) {
    boolean dropped;
    synchronized (this) {
      // Cancelled while this part was on its way: it never starts.
      dropped = cancelled;
      if (dropped) {
        running.remove(part);
        for (int i = 0; i < part.items.size(); i++) {
          markCancelledLocked(part.first + i);
        }
      }
    }
    if (dropped) {
      finishIfDone();
      wake();
      return;
    }
    ChunkBackend.ChunkTicket ticket =
        backend.run(ref, part.first, part.items, start, outcome -> onOutcome(part, outcome));
    boolean cancelNow;
    synchronized (this) {
      part.ticket = ticket;
      cancelNow = cancelled;
    }
    if (cancelNow) {
      // Cancel came between the check above and the ticket: cancel() skipped this part.
      cancelPart(part, ticket);
      finishIfDone();
      wake();
    }
  }

  private void onOutcome(Part part, ChunkOutcome outcome) {
    sizer.observe(outcome.size(), outcome.computeNanos(), outcome.bytes());
    int base = outcome.base();
    int count = part.items.size();
    int done = Math.max(0, Math.min(outcome.size(), count - base));
    List<Part> rest = new ArrayList<>(2);
    for (int i = 0; i < done; i++) {
      Throwable error = outcome.error(i);
      Result.Builder r = Result.newBuilder().setIndex(part.first + base + i);
      byte[] value = error == null ? (byte[]) outcome.value(i) : null;
      if (value != null && value.length > maxResultBytes) {
        r.setError(
            ItemError.newBuilder()
                .setType(RESULT_TOO_LARGE)
                .setMessage(
                    "the result is "
                        + value.length
                        + " bytes, over the job service's limit of "
                        + maxResultBytes
                        + " (--max-message-bytes)"));
      } else if (error == null) {
        r.setValue(ByteString.copyFrom(value));
      } else {
        r.setError(itemError(error));
      }
      record(r.build());
    }
    if (!outcome.partial()) {
      UnreachedItems unreached = UnreachedItems.after(outcome, count);
      synchronized (this) {
        running.remove(part);
        if (unreached != null && !cancelled) {
          for (UnreachedItems.Half half : unreached.halvesInLaunchOrder()) {
            rest.add(
                new Part(
                    part.first + half.from(),
                    part.items.subList(half.from(), half.from() + half.count())));
          }
          running.addAll(rest);
        } else if (unreached != null) {
          for (int i = unreached.from(); i < unreached.from() + unreached.count(); i++) {
            markCancelledLocked(part.first + i);
          }
        }
      }
      for (Part half : rest) {
        launch(half, unreached.start());
      }
    }
    finishIfDone();
    wake();
  }

  private static ItemError itemError(Throwable error) {
    String type =
        error instanceof RemoteException r ? r.remoteClassName() : error.getClass().getName();
    String message = String.valueOf(error.getMessage());
    if (message.startsWith(type + ": ")) {
      message = message.substring(type.length() + 2);
    }
    StringWriter trace = new StringWriter();
    error.printStackTrace(new PrintWriter(trace));
    return ItemError.newBuilder()
        .setType(type)
        .setMessage(message)
        .setTraceback(trace.toString())
        .build();
  }

  private void record(Result result) {
    List<Runnable> room;
    synchronized (this) {
      room = recordLocked(result);
    }
    room.forEach(Runnable::run);
  }

  /**
   * Files a result.
   *
   * @return the input streams to ask for more, now that there is room: to be run outside the lock
   */
  private List<Runnable> recordLocked(Result result) {
    int index = (int) result.getIndex();
    if (byIndex.get(index) != null) {
      return List.of();
    }
    byIndex.set(index, result);
    keptBytes += result.getSerializedSize();
    if (logged == completionLog.length) {
      completionLog = Arrays.copyOf(completionLog, logged * 2);
    }
    completionLog[logged++] = index;
    if (!result.hasError()) {
      succeeded++;
    } else if (result.getError().getType().equals(CANCELLED)) {
      cancelledItems++;
    } else {
      failed++;
    }
    if (roomWaiters.isEmpty() || pendingLocked() >= maxPending) {
      return List.of();
    }
    List<Runnable> room = roomWaiters;
    roomWaiters = new ArrayList<>();
    return room;
  }

  static final String CANCELLED = "Cancelled";

  /** The error type of a result too large to send. */
  static final String RESULT_TOO_LARGE = "ResultTooLarge";

  /** Files an input's result as cancelled; once cancelled, no input stream waits for room. */
  private void markCancelledLocked(long index) {
    recordLocked(
        Result.newBuilder()
            .setIndex(index)
            .setError(
                ItemError.newBuilder()
                    .setType(CANCELLED)
                    .setMessage("job " + id + " was cancelled before this input ran"))
            .build());
  }

  /**
   * Runs {@code request} once the job has room for more inputs: at once if it has, else when enough
   * of its inputs have their results. Each input stream waits with its own request for its next
   * batch.
   */
  void whenRoom(Runnable request) {
    boolean now;
    synchronized (this) {
      now = pendingLocked() < maxPending || cancelled || inputsClosed;
      if (!now) {
        roomWaiters.add(request);
      }
    }
    if (now) {
      request.run();
    }
  }

  private long pendingLocked() {
    return (long) byIndex.size() - logged;
  }

  /**
   * An input stream opened ({@code +1}) or ended ({@code -1}); an abandoned job is one with none.
   */
  synchronized void inputStream(int delta) {
    inputStreams += delta;
    lastInputMs = System.currentTimeMillis();
  }

  /**
   * Drops the inputs that have not started; running ones finish. Closes the inputs.
   *
   * @return whether this call cancelled it (false if it had finished or was cancelled already)
   */
  boolean cancel() {
    Map<Part, ChunkBackend.ChunkTicket> launched = new HashMap<>();
    List<Runnable> room;
    synchronized (this) {
      if (cancelled || finishedMs != 0) {
        return false;
      }
      cancelled = true;
      inputsClosed = true;
      // Parts without a ticket yet are launch()'s to cancel.
      for (Part part : running) {
        if (part.ticket != null) {
          launched.put(part, part.ticket);
        }
      }
      room = roomWaiters;
      roomWaiters = new ArrayList<>();
    }
    launched.forEach(this::cancelPart);
    // The streams learn that the job takes no more inputs from their next batch.
    room.forEach(Runnable::run);
    finishIfDone();
    wake();
    return true;
  }

  /**
   * Drops a part that has not started; one that has is asked to stop at its next item and hand the
   * rest back, which {@link #onOutcome} then marks cancelled.
   */
  private void cancelPart(Part part, ChunkBackend.ChunkTicket ticket) {
    if (!ticket.cancelIfNotStarted()) {
      ticket.requestYield();
    } else {
      int delivered = ticket.delivered();
      synchronized (this) {
        running.remove(part);
        for (int i = delivered; i < part.items.size(); i++) {
          markCancelledLocked(part.first + i);
        }
      }
    }
  }

  /**
   * Closes the inputs of a job nobody is sending to any more, after the retention time.
   *
   * @param now the time, in ms
   * @return whether it did
   */
  boolean closeIfAbandoned(long now) {
    synchronized (this) {
      if (inputsClosed || inputStreams > 0 || now - lastInputMs < retentionMs) {
        return false;
      }
      inputsClosed = true;
    }
    finishIfDone();
    wake();
    return true;
  }

  private void finishIfDone() {
    boolean finished;
    synchronized (this) {
      finished = finishedMs == 0 && inputsClosed && logged == byIndex.size();
      if (finished) {
        finishedMs = System.currentTimeMillis();
      }
    }
    if (finished) {
      backend.closeJob(ref);
      wake();
    }
  }

  /**
   * @return whether it finished so long ago that it is forgotten
   */
  synchronized boolean expired(long now) {
    return finishedMs != 0 && now - finishedMs >= retentionMs;
  }

  /**
   * @return the size of the results it keeps, in bytes
   */
  synchronized long keptBytes() {
    return keptBytes;
  }

  synchronized boolean finished() {
    return finishedMs != 0;
  }

  /**
   * Results from a reader's position on, as many as are there in a row, up to about {@code
   * maxBytes}.
   *
   * @param ordered by input index, or by completion
   * @param from the position to start at
   * @param maxBytes bound on the batch's size, but for a first result larger than it
   * @return the results, with their positions set; empty if none is ready
   */
  synchronized List<Result> read(boolean ordered, long from, long maxBytes) {
    List<Result> out = new ArrayList<>();
    long bytes = 0;
    for (long p = from; ; p++) {
      Result r;
      if (ordered) {
        if (p >= byIndex.size() || (r = byIndex.get((int) p)) == null) {
          break;
        }
      } else {
        if (p >= logged) {
          break;
        }
        r = byIndex.get((int) completionLog[(int) p]);
      }
      if (!out.isEmpty() && bytes + r.getSerializedSize() > maxBytes) {
        break;
      }
      out.add(r.toBuilder().setPosition(p).build());
      bytes += r.getSerializedSize();
    }
    return out;
  }

  /**
   * @return whether a reader at {@code position} has had every result
   */
  synchronized boolean readAll(long position) {
    return finishedMs != 0 && position >= byIndex.size();
  }

  void watch(Runnable watcher) {
    watchers.add(watcher);
  }

  void unwatch(Runnable watcher) {
    watchers.remove(watcher);
  }

  private void wake() {
    for (Runnable w : watchers) {
      w.run();
    }
  }

  /**
   * @return its state now: cancelled at once, though inputs that were running may still bring their
   *     results
   */
  synchronized JobState state() {
    return cancelled ? JobState.CANCELLED : finishedMs == 0 ? JobState.RUNNING : JobState.COMPLETED;
  }

  synchronized JobStatus status() {
    return JobStatus.newBuilder()
        .setJobId(id)
        .setFunction(function)
        .setState(state())
        .setInputsClosed(inputsClosed)
        .setInputsReceived(byIndex.size())
        .setSucceeded(succeeded)
        .setFailed(failed)
        .setCancelled(cancelledItems)
        .setPending(pendingLocked())
        .setCreatedUnixMs(createdMs)
        .setFinishedUnixMs(finishedMs)
        .setExpiresUnixMs(finishedMs == 0 ? 0 : finishedMs + retentionMs)
        .setIdempotencyKey(idempotencyKey)
        .build();
  }
}
