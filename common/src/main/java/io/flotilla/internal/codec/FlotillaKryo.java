package io.flotilla.internal.codec;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Registration;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.io.Serializable;
import java.util.List;

/**
 * Kryo that refuses, with a message a user can act on, the values that can never mean anything in
 * another JVM: non-serializable lambdas and objects bound to this process (threads, streams,
 * sockets, class loaders). Plain Kryo would either fail obscurely in the other JVM or "succeed"
 * with garbage.
 */
final class FlotillaKryo extends Kryo {
  private static final List<Class<?>> PROCESS_BOUND =
      List.of(
          Thread.class,
          ThreadGroup.class,
          ClassLoader.class,
          Process.class,
          java.io.InputStream.class,
          java.io.OutputStream.class,
          java.io.Reader.class,
          java.io.Writer.class,
          java.net.Socket.class,
          java.net.ServerSocket.class,
          java.nio.channels.Channel.class,
          java.util.concurrent.ExecutorService.class);

  @Override
  @SuppressWarnings("rawtypes") // Kryo's signature
  public Registration getRegistration(Class type) {
    if (type.isHidden() && !Serializable.class.isAssignableFrom(type)) {
      throw new KryoException(
          "lambda "
              + type.getName()
              + " is not serializable: declare it as SerializableFunction / SerializableCallable,"
              + " or cast it to an intersection with Serializable");
    }
    return super.getRegistration(type);
  }

  /**
   * Refuses process-bound types only when an instance is written or read. Registering the class
   * itself must succeed: a lambda's capturing class is written as a class reference, and a lambda
   * defined in, say, an ExecutorService implementation is perfectly sendable.
   */
  @Override
  @SuppressWarnings("rawtypes") // Kryo's signature
  public Serializer getDefaultSerializer(Class type) {
    if (!Serializable.class.isAssignableFrom(type)) {
      for (Class<?> bound : PROCESS_BOUND) {
        if (bound.isAssignableFrom(type)) {
          return new Refusing(
              type.getName()
                  + " is a "
                  + bound.getSimpleName()
                  + ", which belongs to this process and cannot be sent to another JVM");
        }
      }
    }
    return super.getDefaultSerializer(type);
  }

  private static final class Refusing extends Serializer<Object> {
    private final String reason;

    Refusing(String reason) {
      this.reason = reason;
    }

    @Override
    public void write(Kryo kryo, Output output, Object object) {
      throw new KryoException(reason);
    }

    @Override
    public Object read(Kryo kryo, Input input, Class<? extends Object> type) {
      throw new KryoException(reason);
    }
  }
}
