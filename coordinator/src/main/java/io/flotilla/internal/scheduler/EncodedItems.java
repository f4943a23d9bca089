package io.flotilla.internal.scheduler;

import io.flotilla.SerializationException;
import io.flotilla.internal.codec.Codec;
import io.flotilla.internal.codec.CodecException;
import io.flotilla.proto.ItemBatch;
import java.util.List;

/**
 * A chunk's items encoded for the wire. An item that cannot be encoded does not stop its
 * neighbours: it travels as an empty span and fails here, with the reason, when the chunk's outcome
 * arrives.
 *
 * @param batch the encoded items
 * @param localFailures per item, why it could not be encoded; {@code null} when all could
 * @param failed how many could not
 */
@SuppressWarnings("ArrayRecordComponent") // read-only after encoding, and never compared
public record EncodedItems(ItemBatch batch, Throwable[] localFailures, int failed) {
  /**
   * @param codec the payload codec
   * @param items the items
   * @param firstIndex the input position of the first, or -1 for a submitted task
   * @param maxPayloadBytes the most bytes the batch may take
   * @return the encoded chunk
   */
  public static EncodedItems encode(
      Codec codec, List<?> items, long firstIndex, int maxPayloadBytes) {
    int n = items.size();
    Throwable[] localFailures = null;
    int failed = 0;
    try (Codec.BatchWriter writer = codec.newBatch()) {
      for (int i = 0; i < n; i++) {
        try {
          writer.add(items.get(i), maxPayloadBytes);
        } catch (CodecException e) {
          writer.addEmpty();
          if (localFailures == null) {
            localFailures = new Throwable[n];
          }
          String what = firstIndex < 0 ? "the task" : "item " + (firstIndex + i);
          localFailures[i] =
              new SerializationException(
                  SerializationException.Boundary.ENCODE_TASK,
                  e.valueClass(),
                  "cannot send " + what + " to a worker: " + e.getMessage(),
                  e);
          failed++;
        }
      }
      return new EncodedItems(writer.finish(), localFailures, failed);
    }
  }

  /**
   * Encodes a map's function, once per job.
   *
   * @param codec the payload codec
   * @param fn the function
   * @param maxPayloadBytes the most bytes it may take
   * @return its bytes
   * @throws SerializationException naming the function's class when it cannot be encoded or is too
   *     big
   */
  public static com.google.protobuf.ByteString function(
      Codec codec, io.flotilla.SerializableFunction<?, ?> fn, int maxPayloadBytes) {
    com.google.protobuf.ByteString function;
    try {
      function = codec.encode(fn);
    } catch (CodecException e) {
      throw new SerializationException(
          SerializationException.Boundary.ENCODE_TASK,
          e.valueClass(),
          "cannot send the map function to the workers: " + e.getMessage(),
          e);
    }
    if (function.size() > maxPayloadBytes) {
      String type = fn.getClass().getName();
      throw new SerializationException(
          SerializationException.Boundary.ENCODE_TASK,
          type,
          "cannot send the map function to the workers: encoded "
              + type
              + " takes "
              + function.size()
              + " bytes, more than fits in one message ("
              + maxPayloadBytes
              + " bytes): capture less, or raise maxMessageBytes",
          null);
    }
    return function;
  }

  /**
   * @return whether no item could be encoded, so that nothing needs sending
   */
  public boolean allFailed() {
    return failed == batch.getEndsCount();
  }
}
