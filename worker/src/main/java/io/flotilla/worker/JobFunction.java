package io.flotilla.worker;

import com.google.protobuf.ByteString;
import io.flotilla.codec.Codec;

/**
 * A job's function as it arrived, decoded once on first use by whichever run thread needs it first. A
 * function that cannot be decoded is remembered as that failure, so every item of the job reports it.
 */
final class JobFunction {
  private final ByteString bytes;
  private Object decoded; // guarded by this
  private RuntimeException failure; // guarded by this

  JobFunction(ByteString bytes) {
    this.bytes = bytes;
  }

  synchronized Object get(Codec codec) {
    if (decoded == null && failure == null) {
      try {
        decoded = codec.decode(bytes);
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
