package io.flotilla;

import java.io.Serializable;

/**
 * A function that can be sent to a worker JVM: the unit of work of {@code map} and of {@code
 * submit(fn, arg)}.
 *
 * <p>A lambda or method reference typed as this interface is serializable, so it travels to the
 * worker together with the values it captures. Captured values and the function's arguments and
 * results must be encodable by the pool's serializer (plain classes, records, collections, arrays;
 * not threads, streams, sockets or class loaders). Unlike {@link java.util.function.Function}, the
 * function may throw checked exceptions: they reach the caller as the cause of the failure, as any
 * other exception does.
 *
 * @param <T> the argument type
 * @param <R> the result type
 */
@FunctionalInterface
public interface SerializableFunction<T, R> extends Serializable {
  /**
   * Applies this function to one item.
   *
   * @param item the item
   * @return the result, which may be {@code null}
   * @throws Exception anything; it fails this item alone
   */
  R apply(T item) throws Exception;
}
