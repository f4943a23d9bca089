package io.flotilla.internal.worker;

import com.google.protobuf.ByteString;
import io.flotilla.internal.codec.Codec;
import io.flotilla.proto.DefineJob;
import java.util.List;

/**
 * A job as it arrived: its function, decoded once on first use by whichever run thread needs it
 * first, and the codec of its classes (the worker's own, or a loader over the code shipped with
 * it). A function that cannot be decoded is remembered as that failure, so every item of the job
 * reports it; code that could not be fetched is tried again for the next chunk.
 */
final class JobFunction {
  private final ByteString bytes;
  private final List<String> bundles;
  private final boolean calls;
  private final CodeSource codecs;
  private Codec codec; // guarded by this
  private int running; // guarded by this
  private boolean forgotten; // guarded by this
  private Object decoded; // guarded by this
  private RuntimeException failure; // guarded by this

  /**
   * @param job the definition
   * @param codecs where the codec of the job's code comes from, and goes back to
   */
  JobFunction(DefineJob job, CodeSource codecs) {
    this.bytes = job.getFunction();
    this.bundles = List.copyOf(job.getBundlesList());
    this.calls = job.getCalls();
    this.codecs = codecs;
  }

  /**
   * @return whether the job's items are callables rather than arguments of a function
   */
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
        codec = codecs.acquire(bundles);
      } catch (java.io.UncheckedIOException e) {
        // A fetch that failed (the network, the disk) may work for the next chunk: not remembered.
        throw e;
      } catch (RuntimeException e) {
        failure = e;
      }
    }
    if (failure != null) {
      throw failure;
    }
    return codec;
  }

  /**
   * Where the codec of a job's code comes from: the worker's own, or a loader over shipped jars.
   */
  interface CodeSource {
    Codec acquire(List<String> bundles);

    void release(List<String> bundles);
  }

  /** A chunk of the job starts running. */
  synchronized void enter() {
    running++;
  }

  /** A chunk of the job has been answered. */
  void exit() {
    boolean last;
    synchronized (this) {
      last = --running == 0 && forgotten;
    }
    if (last) {
      releaseCode();
    }
  }

  /** The coordinator is done with the job: its code goes once its running chunks are answered. */
  void forget() {
    boolean idle;
    synchronized (this) {
      forgotten = true;
      idle = running == 0;
    }
    if (idle) {
      releaseCode();
    }
  }

  private void releaseCode() {
    Codec held;
    synchronized (this) {
      held = codec;
      codec = null;
    }
    if (held != null) {
      codecs.release(bundles);
    }
  }

  /**
   * @return the decoded function
   */
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
