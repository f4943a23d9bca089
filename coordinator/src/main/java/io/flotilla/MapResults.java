package io.flotilla;

import java.util.Iterator;
import java.util.stream.Stream;

/**
 * The lazy results of a {@code map} or {@code mapUnordered}: an iterator that is also a one-shot
 * {@link Iterable} and an {@link AutoCloseable}.
 *
 * <p>Reading a result may read more input and submit it, keeping at most the window of chunks in
 * flight. When a result's item failed, {@link #next()} throws a {@link
 * java.util.concurrent.CompletionException} whose cause is the item's exception (as {@code
 * CompletableFuture.join()} does); every result before it has been delivered, and iteration may
 * continue past it. When the map's timeout expires, {@link #next()} throws {@link
 * UncheckedTimeoutException}. {@link #close()} cancels what has not run; it is idempotent.
 *
 * <p>Threading: one consumer thread at a time; {@link #completed()} and {@link #submitted()} may be
 * read from any thread, for example by a progress bar.
 *
 * @param <R> the result type
 */
// Both, on purpose: a map's results are read once, and a for-each loop over the map is how Python
// users
// read them.
@SuppressWarnings("IterableAndIterator")
public interface MapResults<R> extends Iterator<R>, Iterable<R>, AutoCloseable {
  /**
   * @return this iterator (it can be iterated once)
   */
  @Override
  default Iterator<R> iterator() {
    return this;
  }

  /**
   * @return the remaining results as a sequential stream whose {@code close()} closes this map
   */
  Stream<R> stream();

  /**
   * @return items whose result (or failure) has arrived, counted per item even when chunked
   */
  long completed();

  /**
   * @return items read from the input and submitted so far
   */
  long submitted();

  /** Cancels the chunks that have not started and releases the input. */
  @Override
  void close();
}
