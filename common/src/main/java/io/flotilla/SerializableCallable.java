package io.flotilla;

import java.io.Serializable;
import java.util.concurrent.Callable;

/**
 * A {@link Callable} that can be sent to a worker JVM. A lambda passed to {@code
 * ProcessPool.submit(() -> ...)} is typed as this interface, and so is serializable with the values
 * it captures.
 *
 * @param <R> the result type
 */
@FunctionalInterface
public interface SerializableCallable<R> extends Callable<R>, Serializable {}
