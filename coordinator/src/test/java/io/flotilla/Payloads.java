package io.flotilla;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoSerializable;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.io.ByteArrayInputStream;
import java.io.InputStream;

/** Values that cannot cross, or misbehave while crossing, the JVM boundary. */
final class Payloads {
  private Payloads() {}

  /**
   * The system property, set only in the workers of the fault tests' pools, that tells the sides
   * apart.
   */
  static final String SIDE_PROPERTY = "flotilla.test.side";

  static boolean inWorker() {
    return "worker".equals(System.getProperty(SIDE_PROPERTY));
  }

  /** Holds a thread: bound to its process, never encodable. */
  static final class HoldsThread {
    final Thread thread = new Thread(() -> {});

    @Override
    public String toString() {
      return "HoldsThread";
    }
  }

  /** Holds an input stream: bound to its process, never encodable. */
  static final class HoldsStream {
    final InputStream in = new ByteArrayInputStream(new byte[] {1, 2, 3});
  }

  /** An exception without a constructor taking a message: the caller cannot rebuild its class. */
  static final class CodedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CodedException(int code) {
      super("failed with code " + code);
    }
  }

  /**
   * Where a {@link Faulty} value misbehaves: one of the four serialization boundaries of a task.
   */
  enum Where {
    /** Its write() in the caller: submitting the task. */
    ENCODE_IN_CALLER,
    /** Its read() in the worker: the task arriving. */
    DECODE_IN_WORKER,
    /** Its write() in the worker: the result leaving. */
    ENCODE_IN_WORKER,
    /** Its read() in the caller: the result arriving. */
    DECODE_IN_CALLER
  }

  /** How it misbehaves. */
  enum How {
    /** Throws a RuntimeException. */
    THROW,
    /** Throws an Error that is not a VirtualMachineError. */
    ERROR,
    /** Calls System.exit (in a worker only). */
    EXIT,
    /** Calls Runtime.halt (in a worker only). */
    HALT
  }

  /**
   * A value whose Kryo {@code write} or {@code read} fails in one chosen way at one chosen
   * boundary, in the spirit of CPython's test_deadlock. The side is told by {@link #SIDE_PROPERTY},
   * which only the workers of the fault tests' pools have.
   */
  public static final class Faulty implements KryoSerializable {
    private Where where;
    private How how;
    private int exitCode;

    /** For Kryo. */
    public Faulty() {}

    Faulty(Where where, How how, int exitCode) {
      this.where = where;
      this.how = how;
      this.exitCode = exitCode;
    }

    @Override
    @SuppressWarnings("EnumOrdinal") // both ends run the same class
    public void write(Kryo kryo, Output output) {
      output.writeVarInt(where.ordinal(), true);
      output.writeVarInt(how.ordinal(), true);
      output.writeVarInt(exitCode, true);
      if (where == (inWorker() ? Where.ENCODE_IN_WORKER : Where.ENCODE_IN_CALLER)) {
        misbehave("write");
      }
    }

    @Override
    @SuppressWarnings("EnumOrdinal") // both ends run the same class
    public void read(Kryo kryo, Input input) {
      where = Where.values()[input.readVarInt(true)];
      how = How.values()[input.readVarInt(true)];
      exitCode = input.readVarInt(true);
      if (where == (inWorker() ? Where.DECODE_IN_WORKER : Where.DECODE_IN_CALLER)) {
        misbehave("read");
      }
    }

    private void misbehave(String method) {
      if (!inWorker() && (how == How.EXIT || how == How.HALT)) {
        throw new IllegalStateException("refusing to " + how + " the test JVM");
      }
      switch (how) {
        case THROW ->
            throw new IllegalStateException("Faulty." + method + " fails on purpose at " + where);
        case ERROR -> throw new AssertionError("Faulty." + method + " errs on purpose at " + where);
        case EXIT -> System.exit(exitCode);
        case HALT -> Runtime.getRuntime().halt(exitCode);
      }
    }

    @Override
    public String toString() {
      return "Faulty[" + where + ", " + how + "]";
    }
  }
}
