package io.flotilla;

import java.util.Set;
import java.util.concurrent.Future;

/**
 * What {@link Futures#wait} returns: the futures that were done and those that were not, each set
 * without duplicates, as Python's {@code DoneAndNotDoneFutures}.
 *
 * @param done futures finished, failed or cancelled
 * @param notDone the others
 * @param <T> the futures' result type
 */
public record DoneAndNotDone<T>(Set<Future<T>> done, Set<Future<T>> notDone) {}
