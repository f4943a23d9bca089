package io.flotilla.internal.scheduler;

import io.flotilla.RemoteTraceback;
import io.flotilla.SerializationException;
import io.flotilla.internal.codec.Codec;
import io.flotilla.internal.codec.RemoteErrors;
import io.flotilla.internal.map.ChunkOutcome;
import io.flotilla.proto.ChunkResult;
import io.flotilla.proto.ItemFailure;
import io.flotilla.proto.WorkerRef;
import java.util.concurrent.CancellationException;

/**
 * A chunk's outcome, or a piece of it, as it came from a worker. Values are decoded on first
 * access, on the consumer's thread, so that the gRPC thread only moves bytes and a value that
 * cannot be decoded fails its item alone.
 */
public final class RemoteOutcome implements ChunkOutcome {
  private final ChunkResult result;
  private final WorkerRef worker;
  private final long firstIndex;
  private final int base;
  private final Throwable[] localFailures;
  private final Codec codec;
  private final ClassLoader loader;
  private final boolean suspect;
  private Object[] values;
  private Throwable[] errors;

  /** What a chunk handed back unstarted says: that it yielded, with nothing answered. */
  private static final ChunkResult HANDED_BACK = ChunkResult.newBuilder().setYielded(true).build();

  /**
   * The outcome of a chunk handed back unstarted because it is suspected of killing its worker: the
   * map runs its items after {@code base} again, in halves.
   *
   * @param worker the worker that died running it
   * @param firstIndex the input position of the chunk's first item
   * @param base how many of the chunk's items earlier pieces answered
   * @param localFailures items that failed before they were sent, or null
   * @param codec the payload codec
   * @param loader where exception classes are looked up
   * @return the outcome
   */
  public static RemoteOutcome suspect(
      WorkerRef worker,
      long firstIndex,
      int base,
      Throwable[] localFailures,
      Codec codec,
      ClassLoader loader) {
    return new RemoteOutcome(
        HANDED_BACK, worker, firstIndex, base, localFailures, codec, loader, true);
  }

  /**
   * @param result the piece as the worker sent it
   * @param worker who ran it
   * @param firstIndex the input position of the chunk's first item, or -1 for a task
   * @param base how many of the chunk's items earlier pieces answered
   * @param localFailures items that failed before they were sent (could not be encoded), or null
   * @param codec decodes the values
   * @param loader where exception classes are looked up
   * @param suspect the chunk is handed back unstarted, suspected of killing its worker
   */
  public RemoteOutcome(
      ChunkResult result,
      WorkerRef worker,
      long firstIndex,
      int base,
      Throwable[] localFailures,
      Codec codec,
      ClassLoader loader,
      boolean suspect) {
    this.suspect = suspect;
    this.result = result;
    this.worker = worker;
    this.firstIndex = firstIndex;
    this.base = base;
    this.localFailures = localFailures;
    this.codec = codec;
    this.loader = loader;
  }

  @Override
  public int size() {
    return result.getValues().getEndsCount();
  }

  @Override
  public Throwable error(int i) {
    decode();
    return errors[i];
  }

  @Override
  public Object value(int i) {
    decode();
    return values[i];
  }

  @Override
  public int base() {
    return base;
  }

  @Override
  public long bytes() {
    return result.getValues().getData().size();
  }

  @Override
  public boolean partial() {
    return result.getPartial();
  }

  @Override
  public long computeNanos() {
    return result.getComputeNanos();
  }

  @Override
  public boolean suspect() {
    return suspect;
  }

  private void decode() {
    if (values != null) {
      return;
    }
    int n = size();
    Object[] vs = new Object[n];
    Throwable[] es = new Throwable[n];
    if (result.getCancelled()) {
      java.util.Arrays.fill(es, new CancellationException("the chunk was cancelled before it ran"));
    } else {
      for (ItemFailure f : result.getFailuresList()) {
        es[f.getOffset()] = rebuild(f);
      }
      try (Codec.BatchReader reader = codec.read(result.getValues())) {
        for (int i = 0; i < n; i++) {
          if (localFailures != null && localFailures[base + i] != null) {
            es[i] = localFailures[base + i];
          } else if (es[i] == null) {
            try {
              vs[i] = reader.get(i);
            } catch (RuntimeException e) {
              es[i] =
                  new SerializationException(
                      SerializationException.Boundary.DECODE_RESULT,
                      "?",
                      "cannot decode "
                          + (firstIndex < 0
                              ? "the task's result"
                              : "the result of item " + index(i))
                          + ": "
                          + e.getMessage(),
                      e);
            }
          }
        }
      }
    }
    errors = es;
    values = vs;
  }

  /** The worker's codec names the value's class first thing in its message. */
  private static String encodedClass(String message) {
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("^(?:cannot encode|encoded) ([\\w.$\\[\\];]+)")
            .matcher(message);
    return m.find() ? m.group(1) : "?";
  }

  private long index(int offset) {
    return firstIndex < 0 ? -1 : firstIndex + base + offset;
  }

  private Throwable rebuild(ItemFailure failure) {
    Throwable remote = RemoteErrors.rebuild(failure.getError(), loader);
    remote.addSuppressed(
        new RemoteTraceback(
            worker.getId(), worker.getPid(), worker.getHost(), index(failure.getOffset())));
    return switch (failure.getBoundary()) {
      case DECODE_FUNCTION, DECODE_ITEM ->
          new SerializationException(
              SerializationException.Boundary.DECODE_TASK,
              "?",
              "worker " + worker.getId() + " cannot decode the task: " + remote.getMessage(),
              remote);
      case ENCODE_RESULT ->
          new SerializationException(
              SerializationException.Boundary.ENCODE_RESULT,
              encodedClass(failure.getError().getMessage()),
              "worker " + worker.getId() + " cannot encode the result: " + remote.getMessage(),
              remote);
      default -> remote;
    };
  }
}
