package io.flotilla.worker;

import io.flotilla.SerializableFunction;
import io.flotilla.codec.Codec;
import io.flotilla.codec.RemoteErrors;
import io.flotilla.proto.Boundary;
import io.flotilla.proto.Chunk;
import io.flotilla.proto.ChunkResult;
import io.flotilla.proto.ItemFailure;
import io.flotilla.proto.Started;
import io.flotilla.proto.WorkerMessage;
import java.util.concurrent.Callable;

/**
 * Runs one chunk, item by item, and builds its result. Every failure is confined to its item and tagged
 * with the boundary where it happened: decoding the function, decoding the item, running it, encoding
 * its result.
 */
final class ChunkRun implements Runnable {
  /** Job id reserved for single submitted tasks: each item is a Callable. */
  static final long CALL_JOB = 0;

  /**
   * How long a chunk must have been here (queued or running) before it honours a yield request. A
   * younger one is about to start or to finish: handing its items back would cost a round trip to save
   * less than one, and an idle worker is often just one whose chunk finished a moment earlier.
   */
  static final long MIN_AGE_BEFORE_YIELD_NANOS = 1_000_000;

  /**
   * Longest a chunk runs before it hands back what it has done and the items it has not started, unasked:
   * results and progress then reach the caller at least this often, whatever the chunk size, for one
   * round trip (a fraction of a percent) per slice.
   */
  static final long TIME_SLICE_NANOS = 100_000_000;

  /**
   * Most bytes of results a chunk collects before it hands back what it has done, unasked: large results
   * then travel in messages of a few megabytes, decoded by the caller while the worker computes more,
   * instead of one message per time slice that could approach the message size limit.
   */
  static final int SLICE_BYTES = 4 << 20;

  private final WorkerSession session;
  private final Chunk chunk;
  private final long received = System.nanoTime();
  private volatile boolean yieldRequested;

  ChunkRun(WorkerSession session, Chunk chunk) {
    this.session = session;
    this.chunk = chunk;
  }

  int attempt() {
    return chunk.getAttempt();
  }

  /** @return the answer to this chunk, naming it and returning its credit, to be filled in */
  private ChunkResult.Builder answer() {
    return ChunkResult.newBuilder()
        .setJobId(chunk.getJobId())
        .setChunkId(chunk.getChunkId())
        .setAttempt(chunk.getAttempt())
        .setCredits(1);
  }

  /** Answers a chunk that never started as yielded with no values: all its items go back. */
  void handBackUnstarted() {
    session.chunkAnswered(chunk.getChunkId());
    session.send(
        answer()
            .setYielded(true)
            .setValues(io.flotilla.proto.ItemBatch.getDefaultInstance())
            .build());
  }

  /** Asks this chunk to stop at the next item boundary and hand back the items it has not started. */
  void requestYield() {
    yieldRequested = true;
  }

  @Override
  public void run() {
    try {
      runChunk();
    } catch (Throwable e) {
      // Something outside the per-item guards broke (capturing a hostile exception, a VM error while
      // decoding): the chunk must still be answered, or its caller would wait forever.
      session.chunkAnswered(chunk.getChunkId());
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
      result.addFailures(ItemFailure.newBuilder().setOffset(i).setBoundary(Boundary.RUN).setError(error));
    }
    return result.setValues(empty).build();
  }

  private void runChunk() {
    ChunkResult.Builder result = answer();
    JobFunction function = null;
    if (chunk.getJobId() != CALL_JOB) {
      function = session.function(chunk.getJobId());
      if (function == null) {
        session.chunkAnswered(chunk.getChunkId());
        session.send(result.setCancelled(true).build());
        return;
      }
    }
    if (chunk.getReportStart()) {
      session.send(
          WorkerMessage.newBuilder()
              .setStarted(
                  Started.newBuilder().setChunkId(chunk.getChunkId()).setAttempt(chunk.getAttempt()))
              .build());
    }
    Codec codec = session.codec();
    long computeNanos = 0;
    long started = System.nanoTime();
    try (Codec.BatchReader items = codec.read(chunk.getItems());
        Codec.BatchWriter values = codec.newBatch()) {
      SerializableFunction<Object, Object> fn = null;
      RuntimeException fnFailure = null;
      if (function != null) {
        try {
          fn = cast(function.get(codec));
        } catch (RuntimeException e) {
          fnFailure = e;
        }
      }
      for (int i = 0; i < items.size(); i++) {
        if (i > 0 || yieldRequested) {
          long now = System.nanoTime();
          if (now - started >= TIME_SLICE_NANOS
              || values.size() >= Math.min(SLICE_BYTES, session.maxResultBytes() / 2)
              || (yieldRequested && now - received >= MIN_AGE_BEFORE_YIELD_NANOS)) {
            result.setYielded(true);
            break;
          }
        }
        if (fnFailure != null) {
          fail(result, values, i, Boundary.DECODE_FUNCTION, fnFailure);
          continue;
        }
        Object item;
        try {
          item = items.get(i);
        } catch (RuntimeException e) {
          fail(result, values, i, Boundary.DECODE_ITEM, e);
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
        computeNanos += System.nanoTime() - start;
        if (error != null) {
          fail(result, values, i, Boundary.RUN, error);
          continue;
        }
        try {
          values.add(value, session.maxResultBytes());
        } catch (RuntimeException e) {
          fail(result, values, i, Boundary.ENCODE_RESULT, e);
        }
      }
      result.setValues(values.finish());
    }
    session.chunkAnswered(chunk.getChunkId());
    session.send(result.setComputeNanos(computeNanos).setHeavy(session.heavy()).build());
  }

  @SuppressWarnings("unchecked")
  private static SerializableFunction<Object, Object> cast(Object function) {
    if (!(function instanceof SerializableFunction)) {
      throw new ClassCastException(
          "job function is a " + function.getClass().getName() + ", not a SerializableFunction");
    }
    return (SerializableFunction<Object, Object>) function;
  }

  private static void fail(
      ChunkResult.Builder result, Codec.BatchWriter values, int offset, Boundary boundary, Throwable e) {
    values.addEmpty();
    result.addFailures(
        ItemFailure.newBuilder()
            .setOffset(offset)
            .setBoundary(boundary)
            .setError(RemoteErrors.capture(e)));
  }
}
