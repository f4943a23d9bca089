package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.IOException;
import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What every {@link PoolExecutor} does, whether its tasks run in worker JVMs or on threads: the
 * tests CPython's test_concurrent_futures runs against every executor (submit, map, as_completed,
 * wait, cancel), written against the interface only. Subclasses supply one pool of two workers
 * shared by all tests of the class; {@link ProcessPoolContractTest} and {@link
 * ThreadPoolContractTest} passing the same tests is what makes switching between them a one-line
 * change.
 *
 * <p>Tests that hold workers busy first call {@link Pools#awaitAllWorkersReady}, so that two tasks
 * submitted together land on different workers and neither waits behind the other.
 */
abstract class PoolExecutorContract extends PoolTestBase {

  /**
   * @return the pool shared by the class, two workers (or threads)
   */
  abstract PoolExecutor pool();

  /**
   * @return whether failures come from another JVM, with a {@link RemoteTraceback} attached
   */
  abstract boolean remote();

  static <T> T get(Future<T> f) throws Exception {
    return f.get(TestTime.LONG.toMillis(), TimeUnit.MILLISECONDS);
  }

  static List<Integer> range(int from, int to) {
    return IntStream.range(from, to).boxed().toList();
  }

  /** Reads a map to its end, recording each failure as the exception itself. */
  static List<Object> drain(Iterator<?> results) {
    List<Object> out = new ArrayList<>();
    while (true) {
      try {
        if (!results.hasNext()) {
          return out;
        }
        out.add(results.next());
      } catch (CompletionException e) {
        out.add(e);
      }
    }
  }

  // ================================================================ submit

  @Test
  void submitCallableReturnsItsResult() throws Exception {
    CompletableFuture<Integer> f = pool().submit(() -> 6 * 7);
    assertThat(get(f)).isEqualTo(42);
    assertThat(f).isCompletedWithValue(42);
  }

  @Test
  void submitFunctionWithArgumentAppliesItToTheArgument() throws Exception {
    assertThat(get(pool().submit((Integer x) -> x + 1, 41))).isEqualTo(42);
    assertThat(get(pool().submit((String s) -> s.repeat(2), "ab"))).isEqualTo("abab");
    assertThat(
            get(
                pool()
                    .submit(
                        (List<Integer> xs) -> xs.stream().mapToInt(i -> i).sum(),
                        List.of(1, 2, 3))))
        .isEqualTo(6);
  }

  record Point(int x, int y) {}

  @Test
  void lambdaCarriesTheValuesItCaptures() throws Exception {
    int base = 40;
    String suffix = "!";
    List<String> words = List.of("a", "b");
    Point p = new Point(3, 4);
    assertThat(get(pool().submit(() -> (base + words.size()) + suffix + (p.x() * p.y()))))
        .isEqualTo("42!12");
  }

  @Test
  void submitRunnableCompletesWithTheGivenResult() throws Exception {
    String ran = signals.marker("ran");
    CompletableFuture<String> f =
        pool().submit((Runnable & Serializable) () -> Signals.touch(ran), "done");
    assertThat(get(f)).isEqualTo("done");
    assertThat(signals.exists(ran)).isTrue();
    assertThat(get(pool().submit((Runnable & Serializable) () -> {}))).isNull();
  }

  @Test
  void executeRunsTheCommand() {
    String ran = signals.marker("executed");
    pool().execute((Runnable & Serializable) () -> Signals.touch(ran));
    signals.awaitMarker(ran);
  }

  @Test
  void invokeAllReturnsEveryOutcomeInTaskOrder() throws Exception {
    List<Callable<Integer>> tasks =
        List.of(
            (SerializableCallable<Integer>) () -> 1,
            (SerializableCallable<Integer>)
                () -> {
                  throw new IllegalStateException("task 2 fails");
                },
            (SerializableCallable<Integer>) () -> 3);
    List<Future<Integer>> futures = pool().invokeAll(tasks);
    assertThat(futures).hasSize(3).allMatch(Future::isDone);
    assertThat(futures.get(0).get()).isEqualTo(1);
    assertThatThrownBy(() -> futures.get(1).get())
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("task 2 fails");
    assertThat(futures.get(2).get()).isEqualTo(3);
  }

  @Test
  void invokeAnyReturnsTheResultOfATaskThatSucceeded() throws Exception {
    List<Callable<String>> tasks =
        List.of(
            (SerializableCallable<String>)
                () -> {
                  throw new IllegalStateException("no");
                },
            (SerializableCallable<String>) () -> "yes",
            (SerializableCallable<String>)
                () -> {
                  throw new IllegalStateException("no again");
                });
    assertThat(pool().invokeAny(tasks)).isEqualTo("yes");
    assertThat(pool().invokeAny(tasks, TestTime.LONG.toMillis(), TimeUnit.MILLISECONDS))
        .isEqualTo("yes");
  }

  @Test
  void invokeAnyFailsWhenEveryTaskFails() {
    List<Callable<String>> tasks =
        List.of(
            (SerializableCallable<String>)
                () -> {
                  throw new IllegalStateException("first");
                },
            (SerializableCallable<String>)
                () -> {
                  throw new IllegalStateException("second");
                });
    assertThatThrownBy(() -> pool().invokeAny(tasks))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(IllegalStateException.class)
        .hasMessageMatching("first|second");
  }

  @Test
  void invokeAnyWithATimeoutGivesUpWhenNoTaskFinishesInTime() {
    String hold = signals.gate("hold");
    List<Callable<String>> tasks =
        List.of(
            (SerializableCallable<String>)
                () -> {
                  Signals.await(hold);
                  return "late";
                });
    assertThatThrownBy(() -> pool().invokeAny(tasks, 200, TimeUnit.MILLISECONDS))
        .isInstanceOf(TimeoutException.class);
  }

  @Test
  void taskExceptionFailsItsFutureWithTheOriginalClassAndMessage() {
    CompletableFuture<Integer> f =
        pool()
            .submit(
                () -> {
                  throw new IllegalArgumentException("bad input 7");
                });
    Throwable thrown = catchThrowable(() -> get(f));
    assertThat(thrown)
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("bad input 7");
    assertThat(f).isCompletedExceptionally().isNotCancelled();
    if (remote()) {
      assertThat(RemoteTraceback.of(thrown))
          .as("remote traceback of a submitted task")
          .hasValueSatisfying(tb -> assertThat(tb.itemIndex()).isEqualTo(-1));
    }
  }

  @Test
  void checkedExceptionFromAFunctionIsTheCause() {
    CompletableFuture<String> f =
        pool()
            .submit(
                (String path) -> {
                  throw new IOException("cannot read " + path);
                },
                "/nowhere");
    assertThatThrownBy(() -> get(f))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(IOException.class)
        .hasMessage("cannot read /nowhere");
  }

  @Test
  // cancel(true) of a running task differs by design: a process pool kills the worker running it
  // (see
  // HardCancelAndTimeoutTest), a thread pool cannot stop a thread.
  void cancelOfARunningTaskReturnsFalseAndTheTaskCompletes() throws Exception {
    String started = signals.marker("started");
    String hold = signals.gate("hold");
    CompletableFuture<Integer> f =
        pool()
            .submit(
                () -> {
                  Signals.touch(started);
                  Signals.await(hold);
                  return 7;
                });
    signals.awaitMarker(started);
    assertThat(f.cancel(false)).isFalse();
    assertThat(f).isNotCancelled().isNotDone();
    signals.open(hold);
    assertThat(get(f)).isEqualTo(7);
  }

  @Test
  void cancelOfAFinishedTaskReturnsFalse() throws Exception {
    CompletableFuture<Integer> f = pool().submit(() -> 1);
    get(f);
    assertThat(f.cancel(false)).isFalse();
    assertThat(f).isNotCancelled().isCompletedWithValue(1);
  }

  // ================================================================ map

  @Test
  void mapYieldsResultsInInputOrder() {
    List<Integer> out = new ArrayList<>();
    for (int r : pool().map((Integer x) -> x * 3, range(0, 2000))) {
      out.add(r);
    }
    assertThat(out).isEqualTo(range(0, 2000).stream().map(x -> x * 3).toList());
  }

  @Test
  void mapRestoresInputOrderWhenALaterItemFinishesFirst() {
    Pools.awaitAllWorkersReady(pool());
    String secondDone = signals.marker("item-1-done");
    SerializableFunction<Integer, Integer> fn =
        x -> {
          if (x == 0) {
            Signals.await(secondDone); // item 0 finishes only after item 1
          } else if (x == 1) {
            Signals.touch(secondDone);
          }
          return x * 10;
        };
    try (MapResults<Integer> results =
        pool().map(fn, range(0, 3), MapOptions.defaults().chunkSize(1))) {
      assertThat(drain(results)).containsExactly(0, 10, 20);
    }
  }

  @Test
  void mapDeliversEarlierResultsThenTheFailingItemsException() {
    SerializableFunction<Integer, Integer> fn =
        x -> {
          if (x == 5) {
            throw new IllegalStateException("item " + x + " is bad");
          }
          return x;
        };
    MapResults<Integer> results = pool().map(fn, range(0, 10));
    List<Integer> before = new ArrayList<>();
    Throwable failure = null;
    while (failure == null && results.hasNext()) {
      try {
        before.add(results.next());
      } catch (CompletionException e) {
        failure = e;
      }
    }
    assertThat(before).containsExactly(0, 1, 2, 3, 4);
    assertThat(failure)
        .isInstanceOf(CompletionException.class)
        .cause()
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("item 5 is bad");
    if (remote()) {
      assertThat(RemoteTraceback.of(failure))
          .as("remote traceback naming the item")
          .hasValueSatisfying(tb -> assertThat(tb.itemIndex()).isEqualTo(5));
    }
    // Iteration may go on past a failed item.
    assertThat(drain(results)).containsExactly(6, 7, 8, 9);
    assertThat(results.completed()).isEqualTo(10);
  }

  @ParameterizedTest(name = "chunkSize {0}")
  @ValueSource(ints = {1, 3, 1000})
  void mapWithAFixedChunkSizeKeepsOrderAndItemIndexes(int chunkSize) {
    // Item 7 fails; its index must survive chunking (and any split of a chunk for an idle worker).
    SerializableFunction<Integer, Integer> fn =
        x -> {
          if (x == 7) {
            throw new IllegalStateException("item 7");
          }
          return x * 10;
        };
    MapResults<Integer> results =
        pool().map(fn, range(0, 10), MapOptions.defaults().chunkSize(chunkSize));
    List<Object> out = drain(results);
    assertThat(out).hasSize(10);
    for (int i = 0; i < 10; i++) {
      if (i == 7) {
        assertThat(out.get(i))
            .asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.THROWABLE)
            .cause()
            .hasMessage("item 7");
        if (remote()) {
          assertThat(RemoteTraceback.of((Throwable) out.get(i)).orElseThrow().itemIndex())
              .isEqualTo(7);
        }
      } else {
        assertThat(out.get(i)).isEqualTo(i * 10);
      }
    }
    assertThat(results.submitted()).isEqualTo(10);
    assertThat(results.completed()).isEqualTo(10);
  }

  @Test
  void mapOverEmptyInputYieldsNothing() {
    MapResults<Integer> results = pool().map((Integer x) -> x, List.of());
    assertThat(results.hasNext()).isFalse();
    assertThat(results.completed()).isZero();
    assertThat(results.submitted()).isZero();
    assertThatThrownBy(results::next).isInstanceOf(java.util.NoSuchElementException.class);
    assertThat(pool().mapUnordered((Integer x) -> x, List.of()).hasNext()).isFalse();
    assertThat(pool().map((Integer x) -> x, Stream.<Integer>empty()).hasNext()).isFalse();
  }

  @Test
  void mapOverAStreamReadsItInOrderAndClosesIt() {
    AtomicBoolean closed = new AtomicBoolean();
    Stream<Integer> input = IntStream.range(0, 300).boxed().onClose(() -> closed.set(true));
    List<Integer> out = new ArrayList<>();
    pool().map((Integer x) -> x + 1, input).forEach(out::add);
    assertThat(out).isEqualTo(range(1, 301));
    assertThat(closed).as("the input stream is closed once the map is done with it").isTrue();
  }

  @Test
  void closingTheResultsEndsTheMapAndClosesItsInput() {
    AtomicBoolean closed = new AtomicBoolean();
    AtomicLong reads = new AtomicLong();
    Stream<Integer> input =
        Stream.iterate(0, x -> x + 1)
            .peek(x -> reads.incrementAndGet())
            .onClose(() -> closed.set(true));
    MapResults<Integer> results =
        pool().map((Integer x) -> x, input, MapOptions.defaults().chunkSize(1).window(2));
    assertThat(results.next()).isZero();
    results.close();
    results.close(); // idempotent
    assertThat(closed).isTrue();
    assertThat(results.hasNext()).isFalse();
    long read = reads.get();
    assertThat(read).isLessThanOrEqualTo(3);
    assertThat(results.submitted()).isEqualTo(read);
  }

  @Test
  void mapResultsCanBeReadAsAStream() {
    try (Stream<Integer> s = pool().map((Integer x) -> x * x, range(0, 100)).stream()) {
      assertThat(s.mapToInt(Integer::intValue).sum()).isEqualTo(328350);
    }
  }

  @Test
  void mapReadsAnInfiniteInputOnlyAsResultsAreConsumed() {
    AtomicLong reads = new AtomicLong();
    Iterator<Integer> infinite =
        new Iterator<>() {
          @Override
          public boolean hasNext() {
            return true;
          }

          @Override
          public Integer next() {
            return (int) reads.getAndIncrement();
          }
        };
    int window = 3;
    MapOptions options = MapOptions.defaults().chunkSize(1).window(window);
    try (MapResults<Integer> results = pool().map((Integer x) -> x * 2, () -> infinite, options)) {
      assertThat(results.submitted())
          .as("read ahead before the first result")
          .isLessThanOrEqualTo(window);
      for (int consumed = 1; consumed <= 50; consumed++) {
        assertThat(results.next()).isEqualTo(2 * (consumed - 1));
        assertThat(results.submitted())
            .as("submitted after %d results", consumed)
            .isLessThanOrEqualTo(consumed + window);
        assertThat(reads.get())
            .as("items read after %d results", consumed)
            .isEqualTo(results.submitted());
      }
    }
    long readAtClose = reads.get();
    assertThat(readAtClose).isLessThanOrEqualTo(50 + window);
    assertThat(reads.get()).as("nothing is read after close").isEqualTo(readAtClose);
  }

  @Test
  void mapTreatsATimeoutExceptionFromTheFunctionAsAnItemFailure() {
    SerializableFunction<Integer, Integer> fn =
        x -> {
          if (x == 1) {
            throw new TimeoutException("the item's own deadline");
          }
          return x;
        };
    MapOptions options = MapOptions.defaults().timeout(TestTime.LONG);
    List<Object> out = drain(pool().map(fn, range(0, 3), options));
    assertThat(out).hasSize(3);
    assertThat(out.get(0)).isEqualTo(0);
    assertThat(out.get(1))
        .isInstanceOf(CompletionException.class)
        .isNotInstanceOf(UncheckedTimeoutException.class)
        .asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.THROWABLE)
        .cause()
        .isInstanceOf(TimeoutException.class)
        .hasMessage("the item's own deadline");
    assertThat(out.get(2)).isEqualTo(2);
  }

  @Test
  void mapDeliversAFailureToReadTheInputAfterTheEarlierResults() {
    Iterator<Integer> breaking =
        new Iterator<>() {
          int next;

          @Override
          public boolean hasNext() {
            return true;
          }

          @Override
          public Integer next() {
            if (next == 5) {
              throw new IllegalStateException("input broke at 5");
            }
            return next++;
          }
        };
    List<Object> out =
        drain(pool().map((Integer x) -> x, () -> breaking, MapOptions.defaults().chunkSize(1)));
    assertThat(out.subList(0, 5)).containsExactly(0, 1, 2, 3, 4);
    assertThat(out).hasSize(6);
    assertThat(out.get(5))
        .asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.THROWABLE)
        .hasRootCauseInstanceOf(IllegalStateException.class)
        .hasRootCauseMessage("input broke at 5");
  }

  @Test
  void mapUnorderedYieldsEveryResultExactlyOnce() {
    List<Integer> out = new ArrayList<>();
    for (int r : pool().mapUnordered((Integer x) -> -x, range(0, 1500))) {
      out.add(r);
    }
    assertThat(out)
        .hasSize(1500)
        .containsExactlyInAnyOrderElementsOf(range(0, 1500).stream().map(x -> -x).toList());
  }

  @Test
  void mapUnorderedYieldsAResultAsSoonAsItArrives() {
    Pools.awaitAllWorkersReady(pool());
    String hold = signals.gate("item-0");
    SerializableFunction<Integer, Integer> fn =
        x -> {
          if (x == 0) {
            Signals.await(hold);
          }
          return x;
        };
    try (MapResults<Integer> results =
        pool().mapUnordered(fn, range(0, 2), MapOptions.defaults().chunkSize(1))) {
      assertThat(results.next()).as("item 1 while item 0 is held").isEqualTo(1);
      signals.open(hold);
      assertThat(results.next()).isEqualTo(0);
      assertThat(results.hasNext()).isFalse();
    }
  }

  // ================================================================ Futures.asCompleted and wait

  /** A task that returns {@code value} once {@code gate} opens. */
  private CompletableFuture<Integer> held(String gate, int value) {
    return pool()
        .submit(
            () -> {
              Signals.await(gate);
              return value;
            });
  }

  @Test
  void asCompletedYieldsDoneFuturesFirstThenInCompletionOrderAndCollapsesDuplicates()
      throws Exception {
    Pools.awaitAllWorkersReady(pool());
    CompletableFuture<Integer> done = pool().submit(() -> 1);
    get(done);
    String g1 = signals.gate("first");
    String g2 = signals.gate("second");
    CompletableFuture<Integer> slow1 = held(g1, 2);
    CompletableFuture<Integer> slow2 = held(g2, 3);
    Iterator<CompletableFuture<Integer>> it =
        Futures.asCompleted(List.of(slow1, done, slow2, done, slow1), null).iterator();
    assertThat(it.next()).isSameAs(done);
    signals.open(g2);
    assertThat(it.next()).isSameAs(slow2);
    signals.open(g1);
    assertThat(it.next()).isSameAs(slow1);
    assertThat(it.hasNext()).isFalse();
  }

  @Test
  void asCompletedTimeoutSaysHowManyFuturesAreUnfinished() throws Exception {
    CompletableFuture<Integer> done = pool().submit(() -> 1);
    get(done);
    String hold = signals.gate("hold");
    CompletableFuture<Integer> a = held(hold, 2);
    CompletableFuture<Integer> b = held(hold, 3);
    Iterator<CompletableFuture<Integer>> it =
        Futures.asCompleted(List.of(done, a, b, a), Duration.ofMillis(300)).iterator();
    assertThat(it.next()).isSameAs(done);
    assertThatThrownBy(it::next)
        .isInstanceOf(UncheckedTimeoutException.class)
        .hasMessageContaining("2 (of 3) futures unfinished")
        .hasCauseInstanceOf(TimeoutException.class);
    assertThat(a).as("asCompleted cancels nothing").isNotCancelled();
  }

  @Test
  void waitFirstCompletedReturnsOnceOneFutureIsDone() throws Exception {
    Pools.awaitAllWorkersReady(pool());
    String g1 = signals.gate("one");
    String g2 = signals.gate("two");
    CompletableFuture<Integer> one = held(g1, 1);
    CompletableFuture<Integer> two = held(g2, 2);
    signals.open(g2);
    DoneAndNotDone<Integer> r =
        Futures.wait(List.of(one, two, one, two), null, ReturnWhen.FIRST_COMPLETED);
    assertThat(r.done()).containsExactly(two);
    assertThat(r.notDone()).containsExactly(one);
  }

  @Test
  void waitFirstExceptionReturnsOnceOneFutureFails() throws Exception {
    Pools.awaitAllWorkersReady(pool());
    CompletableFuture<Integer> ok = pool().submit(() -> 1);
    get(ok);
    String hold = signals.gate("hold");
    CompletableFuture<Integer> blocked = held(hold, 2);
    CompletableFuture<Integer> bad =
        pool()
            .submit(
                () -> {
                  throw new IllegalStateException("bad");
                });
    DoneAndNotDone<Integer> r =
        Futures.wait(List.of(ok, blocked, bad, bad), null, ReturnWhen.FIRST_EXCEPTION);
    assertThat(r.done()).containsExactlyInAnyOrder(ok, bad);
    assertThat(r.notDone()).containsExactly(blocked);
  }

  @Test
  void waitFirstExceptionWithoutFailuresWaitsForAll() throws Exception {
    CompletableFuture<Integer> a = pool().submit(() -> 1);
    CompletableFuture<Integer> b = pool().submit(() -> 2);
    DoneAndNotDone<Integer> r = Futures.wait(List.of(a, b, a), null, ReturnWhen.FIRST_EXCEPTION);
    assertThat(r.done()).containsExactlyInAnyOrder(a, b);
    assertThat(r.notDone()).isEmpty();
  }

  @Test
  void waitAllCompletedReturnsTheSetsAsTheyStandOnTimeoutAndAllWhenDone() throws Exception {
    CompletableFuture<Integer> quick = pool().submit(() -> 1);
    get(quick);
    String hold = signals.gate("hold");
    CompletableFuture<Integer> slow = held(hold, 2);
    DoneAndNotDone<Integer> r =
        Futures.wait(List.of(quick, slow, quick), Duration.ofMillis(200), ReturnWhen.ALL_COMPLETED);
    assertThat(r.done()).containsExactly(quick);
    assertThat(r.notDone()).containsExactly(slow);
    signals.open(hold);
    r = Futures.wait(List.of(quick, slow), null, ReturnWhen.ALL_COMPLETED);
    assertThat(r.done()).containsExactlyInAnyOrder(quick, slow);
    assertThat(r.notDone()).isEmpty();
    assertThat(
            Futures.wait(Collections.<Future<Integer>>emptyList(), null, ReturnWhen.ALL_COMPLETED)
                .done())
        .isEmpty();
  }

  @Test
  void cancelledFuturesCountAsDoneButNotAsFailed() throws Exception {
    CompletableFuture<Integer> cancelled = new CompletableFuture<>();
    cancelled.cancel(false);
    CompletableFuture<Integer> ok = pool().submit(() -> 1);
    DoneAndNotDone<Integer> r =
        Futures.wait(List.of(cancelled, ok), null, ReturnWhen.FIRST_EXCEPTION);
    assertThat(r.done()).containsExactlyInAnyOrder(cancelled, ok);
    assertThatThrownBy(cancelled::get).isInstanceOf(CancellationException.class);
  }
}
