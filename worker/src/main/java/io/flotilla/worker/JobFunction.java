package io.flotilla.worker;

import com.google.protobuf.ByteString;
import io.flotilla.codec.Codec;
import io.flotilla.proto.DefineJob;
import java.util.List;
import java.util.function.Function;

/**
 * A job as it arrived: its function, decoded once on first use by whichever run thread needs it first,
 * and the codec of its classes (the worker's own, or a loader over the code shipped with it). A function
 * or code that cannot be had is remembered as that failure, so every item of the job reports it.
 */
final class JobFunction {
  private final ByteString bytes;
  private final List<String> bundles;
  private final boolean calls;
  private final Function<List<String>, Codec> codecs;
  private Codec codec; // guarded by this
  private Object decoded; // guarded by this
  private RuntimeException failure; // guarded by this

  /**
   * @param job the definition
   * @param codecs the codec for a list of bundles (the worker's own for an empty one)
   */
  JobFunction(DefineJob job, Function<List<String>, Codec> codecs) {
    this.bytes = job.getFunction();
    this.bundles = List.copyOf(job.getBundlesList());
    this.calls = job.getCalls();
    this.codecs = codecs;
  }

  /** @return whether the job's items are callables rather than arguments of a function */
  boolean calls() {
    return calls;
  }

  /**
   * @return the codec of the job's classes, fetching shipped code on first use
   * @throws RuntimeException why the job's code cannot be had
   */
  synchronized Codec codec() {
    if (codec == null && failure == null) {
      try {
        codec = codecs.apply(bundles);
      } catch (RuntimeException e) {
        failure = e;
      }
    }
    if (failure != null) {
      throw failure;
    }
    return codec;
  }

  /** @return the decoded function */
  synchronized Object get() {
    Codec c = codec();
    if (decoded == null && failure == null) {
      try {
        decoded = c.decode(bytes);
      } catch (RuntimeException e) {
        failure = e;
      }
    }
    if (failure != null) {
      throw failure;
    }
    return decoded;
  }
}
