package io.flotilla.internal.codec;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Registration;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.serializers.ClosureSerializer;
import com.esotericsoftware.kryo.util.DefaultInstantiatorStrategy;
import com.esotericsoftware.kryo.util.Pool;
import com.esotericsoftware.minlog.Log;
import com.google.protobuf.ByteOutput;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.flotilla.proto.ItemBatch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.objenesis.strategy.StdInstantiatorStrategy;

/**
 * Encodes user payloads (functions, items, results) with Kryo, the same way on both sides of the
 * wire.
 *
 * <p>Thread-safe: Kryo instances are not, so each call borrows one from a pool and returns it.
 *
 * <p>Implementation notes: registration is not required, because every class that defines a lambda
 * would need registering; instead both peers compare {@link #fingerprint()} at the handshake, so
 * that a Kryo version or registration mismatch is refused before any work instead of misreading
 * bytes later. Items of a batch are encoded one after another with their end offsets recorded, so a
 * failure to encode or decode one item fails that item alone.
 */
public final class Codec {
  /** Bumped whenever the meaning of worker_link.proto or of the payload encoding changes. */
  public static final int PROTOCOL_VERSION = 2;

  /**
   * One for the whole JVM. Kryo's constructor of this class probes reflective access to
   * SerializedLambda and, without {@code --add-opens java.base/java.lang.invoke}, briefly publishes
   * a field it then sets back to null: a Kryo being created on one thread made lambda encoding on
   * another fail with a NullPointerException. The serializer keeps no per-instance state, so
   * sharing it is safe.
   */
  private static final ClosureSerializer LAMBDAS;

  static {
    // Kryo's own logger would print a warning to stdout whenever a JVM lacks
    // --add-opens java.base/java.lang.invoke, and then cope; the caller's JVM often lacks it.
    Log.set(Log.LEVEL_ERROR);
    LAMBDAS = new ClosureSerializer();
  }

  private final ClassLoader loader;
  private final Pool<Kryo> kryos;
  private final String fingerprint;

  /**
   * Creates a codec resolving classes through the given loader.
   *
   * @param loader the loader for user classes
   */
  public Codec(ClassLoader loader) {
    this.loader = loader;
    this.kryos =
        new Pool<>(true, false, 64) {
          @Override
          protected Kryo create() {
            return newKryo();
          }
        };
    this.fingerprint = computeFingerprint(newKryo());
  }

  private Kryo newKryo() {
    Kryo kryo = new FlotillaKryo();
    kryo.setRegistrationRequired(false);
    kryo.setReferences(true);
    kryo.setReferenceResolver(new ValueTypesUntracked());
    kryo.setClassLoader(loader);
    kryo.setInstantiatorStrategy(new DefaultInstantiatorStrategy(new StdInstantiatorStrategy()));
    kryo.register(ClosureSerializer.Closure.class, LAMBDAS);
    return kryo;
  }

  /**
   * Shared references and cycles survive the trip (as with Python's pickle), except for immutable
   * value types, whose identity means nothing: tracking every String of a word-count map made its
   * encoding several times slower, for nothing.
   */
  private static final class ValueTypesUntracked
      extends com.esotericsoftware.kryo.util.MapReferenceResolver {
    @Override
    @SuppressWarnings("rawtypes") // Kryo's signature
    public boolean useReferences(Class type) {
      return type != String.class
          && type != java.math.BigInteger.class
          && type != java.math.BigDecimal.class
          && !type.isEnum()
          && super.useReferences(type);
    }
  }

  /**
   * @return the loader user classes are resolved through
   */
  public ClassLoader loader() {
    return loader;
  }

  /**
   * @return a digest of the protocol version, the Kryo version and the registrations
   */
  public String fingerprint() {
    return fingerprint;
  }

  private static String computeFingerprint(Kryo kryo) {
    StringBuilder text = new StringBuilder("protocol=").append(PROTOCOL_VERSION);
    text.append(";references=").append(kryo.getReferenceResolver().getClass().getName());
    text.append(";kryo=").append(Kryo.class.getPackage().getImplementationVersion());
    for (int id = 0; id < kryo.getNextRegistrationId(); id++) {
      Registration registration = kryo.getRegistration(id);
      if (registration != null) {
        text.append(';').append(id).append('=').append(registration.getType().getName());
        text.append('/').append(registration.getSerializer().getClass().getName());
      }
    }
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256")
              .digest(text.toString().getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Encodes one value.
   *
   * @param value the value, may be {@code null}
   * @return its bytes
   * @throws CodecException naming the value's class when it cannot be encoded
   */
  public ByteString encode(Object value) {
    Kryo kryo = kryos.obtain();
    try {
      Output out = new Output(256, -1);
      writeValue(kryo, out, value);
      return ByteString.copyFrom(out.getBuffer(), 0, out.position());
    } finally {
      kryos.free(kryo);
    }
  }

  /**
   * Decodes one value.
   *
   * @param bytes what {@link #encode} produced
   * @return the value
   * @throws CodecException when the bytes cannot be decoded
   */
  public Object decode(ByteString bytes) {
    Kryo kryo = kryos.obtain();
    try {
      return readValue(kryo, new Input(bytes.toByteArray()));
    } finally {
      kryos.free(kryo);
    }
  }

  /**
   * @return a writer for a batch of items, to be closed after {@link BatchWriter#finish()}
   */
  public BatchWriter newBatch() {
    return newBatch(1024);
  }

  /**
   * @param expectedBytes the batch's likely size: a buffer grown to megabytes by doubling costs as
   *     much copying as the batch itself
   * @return a writer for a batch of items, to be closed after {@link BatchWriter#finish()}
   */
  public BatchWriter newBatch(int expectedBytes) {
    return new BatchWriter(kryos.obtain(), Math.max(256, expectedBytes));
  }

  /**
   * @param batch a batch from the wire
   * @return a reader decoding its items one by one, to be closed when done
   */
  public BatchReader read(ItemBatch batch) {
    return new BatchReader(kryos.obtain(), batch);
  }

  static void writeValue(Kryo kryo, Output out, Object value) {
    try {
      kryo.writeClassAndObject(out, value);
    } catch (RuntimeException | Error e) {
      rethrowIfFatal(e);
      String type = value == null ? "null" : value.getClass().getName();
      throw new CodecException(type, "cannot encode " + type + ": " + e.getMessage(), e);
    }
  }

  static Object readValue(Kryo kryo, Input in) {
    try {
      return kryo.readClassAndObject(in);
    } catch (RuntimeException | Error e) {
      rethrowIfFatal(e);
      throw new CodecException("?", "cannot decode value: " + e.getMessage(), e);
    }
  }

  /**
   * A user's write() or read() may throw any Error (an assertion, a failed class initialisation),
   * and it must fail that one value like an exception would: escaping, it would lose the whole
   * chunk without an answer. Only the JVM's own failures go on up; a too-deep object graph is the
   * value's fault.
   */
  private static void rethrowIfFatal(Throwable e) {
    if (e instanceof VirtualMachineError fatal && !(e instanceof StackOverflowError)) {
      throw fatal;
    }
  }

  /** Writes the items of one batch; not thread-safe. */
  public final class BatchWriter implements AutoCloseable {
    private final Kryo kryo;
    private final Output out;
    private int[] ends = new int[16];
    private int count;
    private boolean finished;
    private boolean closed;

    private BatchWriter(Kryo kryo, int capacity) {
      this.kryo = kryo;
      this.out = new Output(capacity, -1);
    }

    /**
     * Appends one value.
     *
     * @param value the value
     * @throws CodecException if it cannot be encoded; the batch is unchanged, so the caller may
     *     {@link #addEmpty()} in its place
     */
    public void add(Object value) {
      add(value, Integer.MAX_VALUE);
    }

    /**
     * Appends one value unless the batch would then exceed a size limit.
     *
     * @param value the value
     * @param maxBatchBytes the most bytes the whole batch may take
     * @throws CodecException if it cannot be encoded or does not fit; the batch is unchanged
     */
    public void add(Object value, long maxBatchBytes) {
      if (finished) {
        throw new IllegalStateException("the batch is finished");
      }
      int mark = out.position();
      try {
        writeValue(kryo, out, value);
      } catch (CodecException e) {
        out.setPosition(mark);
        throw e;
      }
      if (out.position() > maxBatchBytes) {
        int bytes = out.position() - mark;
        out.setPosition(mark);
        String type = value == null ? "null" : value.getClass().getName();
        throw new CodecException(
            type,
            "encoded "
                + type
                + " takes "
                + bytes
                + " bytes, more than fits in one message ("
                + maxBatchBytes
                + " bytes): make it smaller, or raise maxMessageBytes",
            null);
      }
      end();
    }

    /** Appends an empty span, standing for an item that failed. */
    public void addEmpty() {
      end();
    }

    /**
     * @return the number of bytes written so far
     */
    public int size() {
      return out.position();
    }

    private void end() {
      if (count == ends.length) {
        ends = java.util.Arrays.copyOf(ends, count * 2);
      }
      ends[count++] = out.position();
    }

    /**
     * Ends the batch; nothing can be added after.
     *
     * @return the batch as it goes on the wire
     */
    public ItemBatch finish() {
      finished = true;
      ItemBatch.Builder batch = ItemBatch.newBuilder();
      // The buffer is never written again, so the message can use it as it is: for megabytes of
      // results, a copy was a measurable part of the cost.
      batch.setData(UnsafeByteOperations.unsafeWrap(out.getBuffer(), 0, out.position()));
      for (int i = 0; i < count; i++) {
        batch.addEnds(ends[i]);
      }
      return batch.build();
    }

    /** Gives the Kryo instance back; more than once is harmless. */
    @Override
    public void close() {
      if (!closed) {
        closed = true;
        kryos.free(kryo);
      }
    }
  }

  /** Reads the items of one batch; not thread-safe. */
  public final class BatchReader implements AutoCloseable {
    private final Kryo kryo;
    private final ItemBatch batch;
    private final byte[] data;
    private final int base;
    private final Input input = new Input();
    private boolean closed;

    private BatchReader(Kryo kryo, ItemBatch batch) {
      this.kryo = kryo;
      this.batch = batch;
      ArraySpan span = ArraySpan.of(batch.getData());
      this.data = span.array;
      this.base = span.offset;
    }

    /**
     * @return the number of items
     */
    public int size() {
      return batch.getEndsCount();
    }

    /**
     * Decodes one item.
     *
     * @param i the item's position in the batch
     * @return the item
     * @throws CodecException if it cannot be decoded
     */
    public Object get(int i) {
      int start = start(i);
      // One Input, re-aimed per item: a new Input per item made decoding ten times slower.
      input.setBuffer(data, base + start, batch.getEnds(i) - start);
      return readValue(kryo, input);
    }

    private int start(int i) {
      return i == 0 ? 0 : batch.getEnds(i - 1);
    }

    /** Gives the Kryo instance back; more than once is harmless. */
    @Override
    public void close() {
      if (!closed) {
        closed = true;
        kryos.free(kryo);
      }
    }
  }

  /**
   * The bytes of a ByteString as one array and an offset, without a copy when it is backed by a
   * single array (as a parsed message's bytes field is). Decoding only reads the array.
   */
  private static final class ArraySpan extends ByteOutput {
    byte[] array;
    int offset;
    private int pieces;

    static ArraySpan of(ByteString bytes) {
      ArraySpan span = new ArraySpan();
      try {
        UnsafeByteOperations.unsafeWriteTo(bytes, span);
      } catch (IOException impossible) {
        throw new UncheckedIOException(impossible);
      }
      if (span.pieces != 1) {
        span.array = bytes.toByteArray();
        span.offset = 0;
      }
      return span;
    }

    @Override
    public void write(byte value) {
      pieces = 2;
    }

    @Override
    public void write(byte[] value, int offset, int length) {
      writeLazy(value, offset, length);
    }

    @Override
    public void writeLazy(byte[] value, int offset, int length) {
      pieces++;
      array = value;
      this.offset = offset;
    }

    @Override
    public void write(java.nio.ByteBuffer value) {
      pieces = 2;
    }

    @Override
    public void writeLazy(java.nio.ByteBuffer value) {
      pieces = 2;
    }
  }
}
