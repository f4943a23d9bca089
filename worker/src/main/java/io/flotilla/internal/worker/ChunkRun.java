package io.flotilla.internal.worker;

import io.flotilla.SerializableFunction;
import io.flotilla.internal.codec.Codec;
import io.flotilla.internal.codec.RemoteErrors;
import io.flotilla.proto.Boundary;
import io.flotilla.proto.Chunk;
import io.flotilla.proto.ChunkResult;
import io.flotilla.proto.ItemFailure;
import io.flotilla.proto.Started;
import io.flotilla.proto.WorkerMessage;
import java.util.concurrent.Callable;

/**
 * Runs one chunk, item by item, and builds its result. Every failure is confined to its item and
 * tagged with the boundary where it happened: decoding the function, decoding the item, running it,
 * encoding its result.
 */
final class ChunkRun implements Runnable {
  /** Job id reserved for single submitted tasks: each item is a Callable. */
  static final long CALL_JOB = 0;

  /**
   * How long a chunk must have been here (queued or running) before it honours a yield request. A
   * younger one is about to start or to finish: handing its items back would cost a round trip to
   * save less than one, and an idle worker is often just one whose chunk finished a moment earlier.
   */
  static final long MIN_AGE_BEFORE_YIELD_NANOS = 1_000_000;

  /**
   * Longest a chunk runs before it sends what it has done so far as a partial result, and carries
   * on: results and progress reach the caller at least this often, whatever the chunk size, and the
   * caller decodes them while later items run (a piece costs one message, a few dozen
   * microseconds).
   */
  static final long TIME_SLICE_NANOS = 10_000_000;

  /**
   * Most bytes of results a chunk collects before it sends them as a partial result, and carries
   * on: large results then travel in messages of about a megabyte, decoded by the caller while the
   * worker computes more, instead of one message per time slice that could approach the message
   * size limit. Messages above 4 MiB also take gRPC's slow path on the receiving side (the message
   * is parsed from a stream, its bytes gathered piece by piece); a piece stays below that unless
   * one value is larger.
   */
  static final int SLICE_BYTES = 1 << 20;

  /**
   * Most bytes of results one run of a chunk sends before it hands back the items it has not
   * started, unasked: the caller then runs them as parts it can hold back while its reader is
   * behind. Asking instead would take a round trip, during which a fast chunk piles up more.
   */
  static final long CHUNK_BYTES = 32L << 20;

  private final WorkerSession session;
  private final Chunk chunk;
  private final long received = System.nanoTime();
  private volatile boolean yieldRequested;

  /** The coordinator ran this chunk elsewhere while it could not reach this worker. */
  private volatile boolean voided;

  ChunkRun(WorkerSession session, Chunk chunk) {
    this.session = session;
    this.chunk = chunk;
  }

  int attempt() {
    return chunk.getAttempt();
  }

  /**
   * @return the answer to this chunk, naming it and returning its credit, to be filled in
   */
  private ChunkResult.Builder answer() {
    return ChunkResult.newBuilder()
        .setJobId(chunk.getJobId())
        .setChunkId(chunk.getChunkId())
        .setAttempt(chunk.getAttempt())
        .setCredits(1);
  }

  /** Answers a chunk that never started as yielded with no values: all its items go back. */
  void handBackUnstarted() {
    session.chunkAnswered(chunk.getChunkId(), this);
    session.send(
        answer()
            .setYielded(true)
            .setValues(io.flotilla.proto.ItemBatch.getDefaultInstance())
            .build());
  }

  /**
   * The coordinator has run this chunk elsewhere: it stops at its next item and sends no more
   * values, only the answer that returns its credit.
   */
  void cancelVoid() {
    voided = true;
  }

  /**
   * Answers a void chunk once: cancelled, with no values, returning its credit (which the
   * coordinator takes back although it drops the answer, as from any run it gave up on).
   */
  void answerVoid() {
    session.chunkAnswered(chunk.getChunkId(), this);
    session.send(answer().setCancelled(true).build());
  }

  /**
   * Asks this chunk to stop at the next item boundary and hand back the items it has not started.
   */
  void requestYield() {
    yieldRequested = true;
  }

  @Override
  public void run() {
    try {
      runChunk();
    } catch (Throwable e) {
      // Something outside the per-item guards broke (capturing a hostile exception, a VM error
      // while
      // decoding): the chunk must still be answered, or its caller would wait forever.
      session.chunkAnswered(chunk.getChunkId(), this);
      session.send(failedWhole(e));
    }
  }

  private ChunkResult failedWhole(Throwable e) {
    ChunkResult.Builder result = answer();
    io.flotilla.proto.ItemBatch.Builder empty = io.flotilla.proto.ItemBatch.newBuilder();
    io.flotilla.proto.RemoteError error =
        io.flotilla.proto.RemoteError.newBuilder()
            .setClassName(e.getClass().getName())
            .setMessage("the worker could not process this chunk")
            .setHasMessage(true)
            .build();
    for (int i = 0; i < chunk.getItems().getEndsCount(); i++) {
      empty.addEnds(0);
      result.addFailures(
          ItemFailure.newBuilder().setOffset(i).setBoundary(Boundary.RUN).setError(error));
    }
    return result.setValues(empty).build();
  }

  private void runChunk() {
    JobFunction function = null;
    if (chunk.getJobId() != CALL_JOB) {
      function = session.function(chunk.getJobId());
      if (function == null) {
        session.chunkAnswered(chunk.getChunkId(), this);
        session.send(answer().setCancelled(true).build());
        return;
      }
      function.enter();
    }
    try {
      runChunk(function);
    } finally {
      if (function != null) {
        function.exit();
      }
    }
  }

  private void runChunk(JobFunction function) {
    if (chunk.getReportStart()) {
      session.send(
          WorkerMessage.newBuilder()
              .setStarted(
                  Started.newBuilder()
                      .setChunkId(chunk.getChunkId())
                      .setAttempt(chunk.getAttempt()))
              .build());
    }
    Codec codec = session.codec();
    RuntimeException codeFailure = null;
    if (function != null) {
      try {
        codec = function.codec();
      } catch (RuntimeException e) {
        codeFailure = e;
      }
    }
    ClassLoader previousLoader = Thread.currentThread().getContextClassLoader();
    // Libraries that look classes up through the context loader (ServiceLoader, JSON mappers) must
    // see
    // the job's shipped classes too.
    Thread.currentThread().setContextClassLoader(codec.loader());
    Piece piece = new Piece(codec, 0);
    try (Codec.BatchReader items = codec.read(chunk.getItems())) {
      SerializableFunction<Object, Object> fn = null;
      RuntimeException fnFailure = codeFailure;
      if (function != null && !function.calls() && codeFailure == null) {
        try {
          fn = cast(function.get());
        } catch (RuntimeException e) {
          fnFailure = e;
        }
      }
      long sliceBytes = Math.min(SLICE_BYTES, session.maxResultBytes() / 2);
      long sent = 0;
      for (int i = 0; i < items.size(); i++) {
        if (voided) {
          break;
        }
        if (i > piece.first || yieldRequested) {
          long now = System.nanoTime();
          if ((yieldRequested && now - received >= MIN_AGE_BEFORE_YIELD_NANOS)
              || sent + piece.values.size() >= CHUNK_BYTES) {
            piece.result.setYielded(true);
            break;
          }
          boolean sliceFull =
              now - piece.started >= TIME_SLICE_NANOS || piece.values.size() >= sliceBytes;
          if (i > piece.first && sliceFull) {
            sent += piece.values.size();
            session.send(piece.finish().setPartial(true).setCredits(0).build());
            piece = new Piece(codec, i);
          }
        }
        if (fnFailure != null) {
          piece.fail(i, Boundary.DECODE_FUNCTION, fnFailure);
          continue;
        }
        Object item;
        try {
          item = items.get(i);
        } catch (RuntimeException e) {
          piece.fail(i, Boundary.DECODE_ITEM, e);
          continue;
        }
        Object value = null;
        Throwable error = null;
        long start = System.nanoTime();
        for (int attempt = 1; ; attempt++) {
          try {
            value = fn == null ? ((Callable<?>) item).call() : fn.apply(item);
            error = null;
            break;
          } catch (Throwable e) {
            error = e;
            if (attempt >= session.maxAttempts() || !session.retryable(e)) {
              break;
            }
          }
        }
        piece.computeNanos += System.nanoTime() - start;
        if (error != null) {
          piece.fail(i, Boundary.RUN, error);
          continue;
        }
        try {
          piece.values.add(value, session.maxResultBytes());
        } catch (RuntimeException e) {
          piece.fail(i, Boundary.ENCODE_RESULT, e);
        }
      }
    } finally {
      piece.values.close();
      Thread.currentThread().setContextClassLoader(previousLoader);
    }
    if (voided) {
      answerVoid();
      return;
    }
    session.chunkAnswered(chunk.getChunkId(), this);
    session.send(piece.finish().setHeavy(session.heavy()).build());
  }

  /** The items of a chunk since its last partial result: their values and failures. */
  private final class Piece {
    final int first;
    final long started = System.nanoTime();
    final ChunkResult.Builder result = answer();
    final Codec.BatchWriter values;
    long computeNanos;

    Piece(Codec codec, int first) {
      this.first = first;
      this.values = codec.newBatch(session.expectedPieceBytes());
    }

    void fail(int item, Boundary boundary, Throwable e) {
      values.addEmpty();
      result.addFailures(
          ItemFailure.newBuilder()
              .setOffset(item - first)
              .setBoundary(boundary)
              .setError(RemoteErrors.capture(e)));
    }

    /** Closes the batch: a piece is finished once. */
    ChunkResult.Builder finish() {
      session.pieceWritten(values.size());
      try (values) {
        return result.setValues(values.finish()).setComputeNanos(computeNanos);
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static SerializableFunction<Object, Object> cast(Object function) {
    if (!(function instanceof SerializableFunction)) {
      throw new ClassCastException(
          "job function is a " + function.getClass().getName() + ", not a SerializableFunction");
    }
    return (SerializableFunction<Object, Object>) function;
  }
}
