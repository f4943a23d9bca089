package io.flotilla.internal.map;

import io.flotilla.MapOptions;
import io.flotilla.MapResults;
import io.flotilla.UncheckedTimeoutException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * One running {@code map} or {@code mapUnordered}: reads the input in chunks, keeps a bounded
 * window of them in flight, and hands results to its single consumer in input order or as they
 * complete.
 *
 * <p>Chunk lifecycle: READ (items taken from the input on the consumer's thread) → SUBMITTED (given
 * to the backend; counted in the window) → DONE (outcome arrived for every item, on a backend
 * thread) → CONSUMED (the consumer took it; the window has room again, so more input is read).
 * Outcomes arrive in pieces (a long chunk sends partial results as it runs); in order, the consumer
 * starts on a chunk as soon as its first piece is in, and drops each piece once read; as completed,
 * it reads pieces in the order they arrive, whatever their chunk, and a chunk leaves the window
 * once all of it has arrived. While SUBMITTED, a chunk may yield: the backend returns the outcome
 * of its first items and the rest is resubmitted as two parts (work stealing), so a chunk is DONE
 * when all its parts are. Close or timeout cancels every part that has not started.
 *
 * <p>Implementation notes: the input is read only on the consumer's thread, inside {@code map()}
 * (the first window) and {@code hasNext()} (one refill per consumed chunk), so a slow or blocking
 * input never stalls a backend thread and memory is bounded by the window whatever the input's
 * length. The window counts chunks, so results of a megabyte each would still let a chunk of
 * hundreds of items pile up hundreds of megabytes: once a piece shows that a running part's results
 * will pass {@link ChunkSizer#SLOT_BYTES}, the part is asked to yield (a worker also yields by
 * itself after that much), and its rest is held as parts of about a megabyte that start only while
 * less than that waits to be read (a part holding the item the reader waits for always starts). A
 * failure to read the input is delivered after every result submitted before it, as if it were the
 * next item. Backend threads only touch the fields guarded by {@link #lock}.
 *
 * @param <T> the item type
 * @param <R> the result type
 */
public final class MapRun<T, R> implements MapResults<R> {
  private final ChunkBackend backend;
  private final ChunkBackend.JobRef job;
  private final Iterator<? extends T> input;
  private final Object inputOwner;
  private final long knownTotal;
  private final boolean ordered;
  private final Duration timeout;
  private final long deadline;
  private final int window;
  private final ChunkSizer sizer;
  private final Supplier<RuntimeException> admission;
  private final Runnable onFinish;
  private final AtomicLong completed = new AtomicLong();
  private final AtomicLong submitted = new AtomicLong();

  private final Object lock = new Object();
  // ordered: every submitted, unconsumed chunk in input order.
  private final ArrayDeque<Slot> ready = new ArrayDeque<>(); // guarded by lock
  // unordered: pieces of outcomes not yet read, in the order they arrived.
  private final ArrayDeque<Arrival> arrivals = new ArrayDeque<>(); // guarded by lock
  private final Set<Slot> notDone =
      Collections.newSetFromMap(new IdentityHashMap<>()); // guarded by lock
  private int outstanding; // submitted and not consumed; guarded by lock
  private boolean closed; // guarded by lock

  // Consumer thread only.
  private boolean inputDone;
  private RuntimeException endFailure; // delivered after every chunk submitted before it
  private long nextIndex;
  private Slot current;
  private int position; // in the current slot
  private ChunkOutcome piece; // the outcome being read, covering [pieceStart, pieceEnd) of the slot
  private int pieceStart;
  private int pieceEnd;

  /**
   * Starts a map: reads and submits the first window of chunks before returning.
   *
   * @param backend where chunks run
   * @param job the prepared job
   * @param items the input
   * @param ordered whether results come in input order
   * @param options chunking, window, timeout
   * @param admission returns the exception to fail with when the pool no longer accepts work, else
   *     null
   * @param onFinish called once when the map is closed or fully consumed
   */
  public MapRun(
      ChunkBackend backend,
      ChunkBackend.JobRef job,
      Iterable<? extends T> items,
      boolean ordered,
      MapOptions options,
      Supplier<RuntimeException> admission,
      Runnable onFinish) {
    this.backend = backend;
    this.job = job;
    this.input = items.iterator();
    this.inputOwner = items;
    this.knownTotal = items instanceof Collection<?> c ? c.size() : -1;
    this.ordered = ordered;
    this.timeout = options.timeout();
    this.deadline = timeout == null ? Long.MAX_VALUE : System.nanoTime() + timeout.toNanos();
    int parallelism = backend.parallelism();
    this.window = options.window() > 0 ? options.window() : Math.max(2, 4 * parallelism);
    this.sizer = new ChunkSizer(options.chunkSize(), parallelism, knownTotal);
    this.admission = admission;
    this.onFinish = onFinish;
    refill();
  }

  /**
   * One chunk of the input, which may run as several parts when it yields, and whose outcomes
   * arrive in pieces, each covering a range of its items; the ranges never overlap.
   */
  private static final class Slot {
    final long firstIndex;
    final int count;
    List<Object> items; // kept until done, to resubmit what a yielding part did not start
    final List<Part> running = new ArrayList<>(); // guarded by MapRun.lock
    // Outcomes by the slot offset of their first item; the consumer drops each once read.
    final java.util.TreeMap<Integer, ChunkOutcome> pieces =
        new java.util.TreeMap<>(); // guarded by lock
    int missing; // items without an outcome yet; guarded by MapRun.lock
    // Parts with large results waiting for room, by offset; guarded by MapRun.lock.
    final java.util.TreeMap<Integer, Part> pending = new java.util.TreeMap<>();
    long buffered; // bytes of pieces not yet read; guarded by MapRun.lock
    int wanted =
        -1; // the item the reader waits for, once it reads this slot; guarded by MapRun.lock

    Slot(long firstIndex, List<Object> items) {
      this.firstIndex = firstIndex;
      this.count = items.size();
      this.items = items;
      this.missing = count;
    }
  }

  /** A contiguous range of a slot's items, submitted as one backend chunk. */
  private static final class Part {
    final int offset;
    final int count;
    final ChunkBackend.Start start;
    volatile ChunkBackend.ChunkTicket ticket;
    boolean splitAsked; // guarded by MapRun.lock

    Part(int offset, int count, ChunkBackend.Start start) {
      this.offset = offset;
      this.count = count;
      this.start = start;
    }
  }

  /** A piece of a chunk's outcome, as completed: its items start at {@code start} in the slot. */
  private record Arrival(Slot slot, int start, ChunkOutcome outcome, int count) {}

  // ---------------------------------------------------------------- consumer side

  @Override
  public boolean hasNext() {
    return ordered ? hasNextInOrder() : hasNextAsCompleted();
  }

  private boolean hasNextAsCompleted() {
    while (piece == null || position >= pieceEnd) {
      if (piece != null) {
        synchronized (lock) {
          current.buffered -= piece.bytes();
        }
        piece = null;
        startPending(current);
      }
      refill();
      Arrival next = awaitArrival();
      if (next == null) {
        return false;
      }
      current = next.slot();
      piece = next.outcome();
      pieceStart = next.start();
      position = pieceStart;
      pieceEnd = pieceStart + next.count();
    }
    return true;
  }

  private boolean hasNextInOrder() {
    while (true) {
      if (current != null && position < current.count) {
        return position < pieceEnd || awaitPiece();
      }
      current = null;
      piece = null;
      refill();
      Slot next = awaitSlot();
      if (next == null) {
        return false;
      }
      current = next;
      position = 0;
      pieceStart = 0;
      pieceEnd = 0;
      refill();
    }
  }

  @Override
  @SuppressWarnings("unchecked")
  public R next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    int i = position++ - pieceStart;
    Throwable error = piece.error(i);
    if (error != null) {
      if (error instanceof CancellationException cancelled) {
        throw cancelled;
      }
      throw new CompletionException(error);
    }
    return (R) piece.value(i);
  }

  /**
   * Waits for the outcome covering the current position of the current slot, dropping the one just
   * read so that its values can be collected.
   *
   * @return false if the map was closed meanwhile
   */
  private boolean awaitPiece() {
    synchronized (lock) {
      if (piece != null && current.pieces.remove(pieceStart) != null) {
        current.buffered -= piece.bytes();
      }
      current.wanted = position;
    }
    piece = null;
    // Reading made room, and the reader's position moved on: parts of large results held back may
    // go.
    startPending(current);
    synchronized (lock) {
      while (true) {
        if (closed) {
          return false;
        }
        java.util.Map.Entry<Integer, ChunkOutcome> at = current.pieces.floorEntry(position);
        if (at != null && at.getKey() + at.getValue().size() > position) {
          piece = at.getValue();
          pieceStart = at.getKey();
          pieceEnd = pieceStart + piece.size();
          return true;
        }
        waitLocked();
      }
    }
  }

  /**
   * @return the next chunk in input order, once its first items are in; null at the end
   */
  private Slot awaitSlot() {
    return awaitOrEnd(
        () -> {
          Slot head = ready.peekFirst();
          if (head == null || !head.pieces.containsKey(0)) {
            return null;
          }
          ready.pollFirst();
          outstanding--;
          return head;
        });
  }

  /**
   * @return the oldest piece not yet read, of any chunk; null at the end
   */
  private Arrival awaitArrival() {
    return awaitOrEnd(arrivals::pollFirst);
  }

  /**
   * Waits until {@code take}, called holding the lock, returns something, or the map ends.
   *
   * @return what {@code take} returned, or null once every result has been read or the map was
   *     closed
   */
  private <X> X awaitOrEnd(Supplier<X> take) {
    synchronized (lock) {
      while (true) {
        if (closed) {
          return null;
        }
        X next = take.get();
        if (next != null) {
          return next;
        }
        if (outstanding == 0 && inputDone) {
          break;
        }
        waitLocked();
      }
    }
    ended();
    return null;
  }

  /** Every result is read: finishes the map, then throws the input's failure if it had one. */
  private void ended() {
    finish();
    if (endFailure != null) {
      RuntimeException failure = endFailure;
      endFailure = null;
      throw failure;
    }
  }

  /**
   * Waits on the lock until notified or the map's deadline, which closes the map. Holds the lock;
   * every caller waits in a loop that checks its condition again.
   */
  @SuppressWarnings("WaitNotInLoop")
  private void waitLocked() {
    long left = deadline - System.nanoTime();
    if (left <= 0) {
      long unfinished = submitted.get() - completed.get();
      closeLocked();
      throw new UncheckedTimeoutException(
          "map timed out after "
              + timeout
              + ": "
              + unfinished
              + " (of "
              + submitted.get()
              + " submitted) items unfinished; work not started was cancelled");
    }
    try {
      if (deadline == Long.MAX_VALUE) {
        lock.wait();
      } else {
        lock.wait(left / 1_000_000, (int) (left % 1_000_000));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CancellationException("interrupted while waiting for map results");
    }
  }

  /** Reads input and submits chunks until the window is full or the input ends. */
  private void refill() {
    while (!inputDone) {
      synchronized (lock) {
        if (closed || outstanding >= window) {
          return;
        }
      }
      RuntimeException rejected = admission.get();
      if (rejected != null) {
        inputDone = true;
        endFailure = rejected;
        return;
      }
      int size = sizer.next();
      List<Object> items = new ArrayList<>(Math.min(size, 1024));
      try {
        while (items.size() < size && input.hasNext()) {
          items.add(input.next());
        }
        if (items.size() < size) {
          inputDone = true;
        }
      } catch (RuntimeException | Error e) {
        inputDone = true;
        endFailure = new CompletionException("reading the map's input failed: " + e, e);
      }
      if (items.isEmpty()) {
        synchronized (lock) {
          lock.notifyAll();
        }
        return;
      }
      Slot slot = new Slot(nextIndex, items);
      nextIndex += items.size();
      synchronized (lock) {
        outstanding++;
        notDone.add(slot);
        if (ordered) {
          ready.addLast(slot);
        }
      }
      submitted.addAndGet(items.size());
      try {
        submitPart(slot, new Part(0, items.size(), ChunkBackend.Start.FRESH));
      } catch (java.util.concurrent.RejectedExecutionException e) {
        // The pool shut down between the admission check and the submission.
        synchronized (lock) {
          outstanding--;
          notDone.remove(slot);
          ready.remove(slot);
          slot.running.clear();
        }
        submitted.addAndGet(-items.size());
        inputDone = true;
        endFailure = e;
        return;
      }
    }
  }

  private void submitPart(Slot slot, Part part) {
    synchronized (lock) {
      if (closed) {
        // The rest of a part that yielded just as the map was closed: nobody will read it.
        return;
      }
      slot.running.add(part);
    }
    launch(slot, part);
  }

  /** Hands a part, already counted as running, to the backend. */
  private void launch(Slot slot, Part part) {
    part.ticket =
        backend.run(
            job,
            slot.firstIndex + part.offset,
            slot.items.subList(part.offset, part.offset + part.count),
            part.start,
            outcome -> onDone(slot, part, outcome));
  }

  /**
   * Starts held-back parts of large results while there is room: a few running per worker thread,
   * and no more than {@link ChunkSizer#SLOT_BYTES} of the slot's results waiting to be read. In
   * order, a part holding the item the reader waits for always goes, so the reader never waits on a
   * part held back for it; as completed, the results that hold the others back are there to be
   * read.
   */
  private void startPending(Slot slot) {
    List<Part> go = new ArrayList<>();
    synchronized (lock) {
      while (!closed
          && !slot.pending.isEmpty()
          && slot.running.size() < 2 * backend.parallelism()) {
        Part next = slot.pending.firstEntry().getValue();
        boolean awaited = next.offset <= slot.wanted;
        if (slot.buffered >= ChunkSizer.SLOT_BYTES && !awaited) {
          break;
        }
        slot.pending.pollFirstEntry();
        slot.running.add(next);
        go.add(next);
      }
    }
    for (Part part : go) {
      launch(slot, part);
    }
  }

  // ---------------------------------------------------------------- backend side

  /**
   * A piece of a part's outcome arrived: a partial one (the part runs on), or the final one, after
   * which the items the part did not reach (it yielded, or was handed back as suspect) are
   * resubmitted at once, split in two so that the idle worker that caused the yield gets half
   * ({@link UnreachedItems}). Pieces may arrive out of order, even after the final one; their
   * ranges never overlap, so each is kept as it comes.
   */
  private void onDone(Slot slot, Part part, ChunkOutcome outcome) {
    sizer.observe(outcome.size(), outcome.computeNanos(), outcome.bytes());
    int base = outcome.base();
    int done = Math.max(0, Math.min(outcome.size(), part.count - base));
    List<Part> rest = new ArrayList<>(2);
    boolean split = false;
    synchronized (lock) {
      if (closed || !notDone.contains(slot)) {
        return;
      }
      if (!outcome.partial() && !slot.running.remove(part)) {
        return;
      }
      if (done > 0) {
        if (ordered) {
          slot.pieces.put(part.offset + base, outcome);
        } else {
          arrivals.addLast(new Arrival(slot, part.offset + base, outcome, done));
        }
        slot.buffered += outcome.bytes();
        slot.missing -= done;
        completed.addAndGet(done);
      }
      int left = part.count - base - done;
      if (outcome.partial()) {
        // Results this large would pile up: have the rest handed back, to run a few items at a
        // time.
        if (!part.splitAsked && left > 1 && sizer.heavy(left)) {
          part.splitAsked = true;
          split = true;
        }
      } else if (left > 0) {
        UnreachedItems unreached = UnreachedItems.after(outcome, part.count);
        if (!outcome.suspect() && left > 1 && sizer.heavy(left)) {
          int from = part.offset + unreached.from();
          int step = sizer.itemsPerPart();
          for (int at = from; at < from + left; at += step) {
            Part more =
                new Part(at, Math.min(step, from + left - at), ChunkBackend.Start.CONTINUED);
            slot.pending.put(more.offset, more);
          }
        } else {
          for (UnreachedItems.Half half : unreached.halvesInLaunchOrder()) {
            rest.add(new Part(part.offset + half.from(), half.count(), unreached.start()));
          }
        }
      } else if (slot.missing == 0) {
        slot.items = null;
        notDone.remove(slot);
        if (!ordered) {
          // As completed, a chunk leaves the window once all of it has arrived; its pieces wait in
          // arrivals, which the end of the map also waits for.
          outstanding--;
        }
      }
      if (done > 0) {
        lock.notifyAll();
      }
    }
    if (split) {
      ChunkBackend.ChunkTicket ticket = part.ticket;
      if (ticket != null) {
        ticket.requestYield();
      }
    }
    for (Part more : rest) {
      submitPart(slot, more);
    }
    startPending(slot);
  }

  // ---------------------------------------------------------------- closing

  /**
   * Cancels the chunks that have not started, as {@code shutdown(cancelFutures=true)} does: their
   * items fail with {@link CancellationException} when reached. The map stays open for what has
   * already run.
   */
  public void cancelPending() {
    List<Running> held = new ArrayList<>();
    synchronized (lock) {
      for (Slot slot : notDone) {
        for (Part part : slot.pending.values()) {
          slot.running.add(part);
          held.add(new Running(slot, part));
        }
        slot.pending.clear();
      }
    }
    for (Running r : held) {
      onDone(r.slot, r.part, ChunkOutcome.failed(r.part.count, cancelledByShutdown()));
    }
    for (Running r : runningParts()) {
      ChunkBackend.ChunkTicket ticket = r.part.ticket;
      if (ticket != null && ticket.cancelIfNotStarted()) {
        int answered = ticket.delivered();
        onDone(
            r.slot,
            r.part,
            ChunkOutcome.failed(r.part.count - answered, cancelledByShutdown(), answered));
      }
    }
  }

  private static CancellationException cancelledByShutdown() {
    return new CancellationException("cancelled by shutdown(cancelFutures=true)");
  }

  private record Running(Slot slot, Part part) {}

  /**
   * @return every part submitted and not done
   */
  private List<Running> runningParts() {
    List<Running> all = new ArrayList<>();
    synchronized (lock) {
      for (Slot slot : notDone) {
        for (Part part : slot.running) {
          all.add(new Running(slot, part));
        }
      }
    }
    return all;
  }

  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closeLocked();
    }
  }

  /**
   * Cancels what has not started. Called holding the lock; the backend never calls back under it.
   */
  private void closeLocked() {
    closed = true;
    lock.notifyAll();
    for (Slot slot : notDone) {
      for (Part part : slot.running) {
        ChunkBackend.ChunkTicket ticket = part.ticket;
        if (ticket != null) {
          ticket.cancelIfNotStarted();
        }
      }
    }
    finish();
  }

  private boolean finished; // guarded by this

  private synchronized void finish() {
    if (finished) {
      return;
    }
    finished = true;
    backend.closeJob(job);
    if (inputOwner instanceof AutoCloseable closeable) {
      try {
        closeable.close();
      } catch (Exception ignored) {
        // the input's own close failing must not hide the map's outcome
      }
    }
    onFinish.run();
  }

  // ---------------------------------------------------------------- progress and views

  @Override
  public long completed() {
    return completed.get();
  }

  @Override
  public long submitted() {
    return submitted.get();
  }

  @Override
  public Stream<R> stream() {
    return StreamSupport.stream(
            Spliterators.spliteratorUnknownSize(this, ordered ? Spliterator.ORDERED : 0), false)
        .onClose(this::close);
  }
}
