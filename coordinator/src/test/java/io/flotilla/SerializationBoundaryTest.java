package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.flotilla.Payloads.Faulty;
import io.flotilla.Payloads.How;
import io.flotilla.Payloads.Where;
import io.flotilla.SerializationException.Boundary;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Values that cannot cross the JVM boundary, at each of the four places a task meets it (CPython's
 * test_deadlock boundaries, minus running the task): each fails that one task with a {@link
 * SerializationException} naming the boundary and the value's class, and the pool goes on. Faults
 * that kill the worker are in {@link WorkerCrashTest}.
 */
class SerializationBoundaryTest extends PoolTestBase {
  private static final int MAX_MESSAGE = 1 << 20;
  private static ProcessPool pool;

  @BeforeAll
  static void startPool() {
    pool =
        Pools.process(
            ProcessPool.builder()
                .workers(2)
                .maxMessageBytes(MAX_MESSAGE)
                .systemProperty(Payloads.SIDE_PROPERTY, "worker"));
  }

  @AfterAll
  static void stopPool() throws InterruptedException {
    Pools.shutDown(pool);
  }

  private static <T> T get(Future<T> f) throws Exception {
    return f.get(TestTime.LONG.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * @return the SerializationException a future failed with
   */
  private static SerializationException failure(Future<?> f) {
    Throwable thrown = catchThrowable(() -> get(f));
    assertThat(thrown)
        .isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(SerializationException.class);
    return (SerializationException) thrown.getCause();
  }

  private static void assertPoolStillWorks() throws Exception {
    assertThat(get(pool.submit(() -> "still working"))).isEqualTo("still working");
  }

  // ================================================================ values bound to this process

  @Test
  void argumentHoldingAThreadFailsInTheCallerNamingTheClass() throws Exception {
    SerializationException e =
        failure(pool.submit((Object o) -> o.toString(), new Payloads.HoldsThread()));
    assertThat(e.boundary()).isEqualTo(Boundary.ENCODE_TASK);
    assertThat(e).hasMessageContaining("java.lang.Thread").hasMessageContaining("HoldsThread");
    assertPoolStillWorks();
  }

  @Test
  void mapItemHoldingAStreamFailsOnlyThatItem() {
    List<Object> items = Arrays.asList(1, new Payloads.HoldsStream(), 3);
    List<Object> out = PoolExecutorContract.drain(pool.map((Object o) -> String.valueOf(o), items));
    assertThat(out).hasSize(3);
    assertThat(out.get(0)).isEqualTo("1");
    assertThat(out.get(2)).isEqualTo("3");
    assertThat(out.get(1)).isInstanceOf(CompletionException.class);
    SerializationException e = (SerializationException) ((Throwable) out.get(1)).getCause();
    assertThat(e.boundary()).isEqualTo(Boundary.ENCODE_TASK);
    assertThat(e.valueClass()).isEqualTo(Payloads.HoldsStream.class.getName());
    assertThat(e).hasMessageContaining("item 1").hasMessageContaining("InputStream");
  }

  @Test
  void plainLambdaThatIsNotSerializableIsRejectedWithAHint() {
    Callable<Integer> plain = () -> 1;
    SerializationException e = failure(pool.submit(plain));
    assertThat(e.boundary()).isEqualTo(Boundary.ENCODE_TASK);
    assertThat(e)
        .hasMessageContaining("not serializable")
        .hasMessageContaining("SerializableCallable");
  }

  @Test
  void mapFunctionThatCannotBeEncodedFailsTheMapCall() {
    Thread captured = new Thread(() -> {});
    assertThatThrownBy(() -> pool.map((Integer x) -> captured.getName() + x, List.of(1, 2)))
        .isInstanceOfSatisfying(
            SerializationException.class,
            e -> assertThat(e.boundary()).isEqualTo(Boundary.ENCODE_TASK))
        .hasMessageContaining("java.lang.Thread");
  }

  @Test
  void resultHoldingAThreadFailsInTheWorkerNamingTheClass() throws Exception {
    SerializationException e = failure(pool.submit(() -> new Payloads.HoldsThread()));
    assertThat(e.boundary()).isEqualTo(Boundary.ENCODE_RESULT);
    assertThat(e.valueClass()).isEqualTo(Payloads.HoldsThread.class.getName());
    assertThat(e).hasMessageContaining("java.lang.Thread");
    assertThat(RemoteTraceback.of(e)).isPresent();
    assertPoolStillWorks();
  }

  // ================================================================ size limit

  @Test
  void resultLargerThanTheMessageLimitFailsAlone() throws Exception {
    SerializationException e = failure(pool.submit(() -> new byte[2 * MAX_MESSAGE]));
    assertThat(e.boundary()).isEqualTo(Boundary.ENCODE_RESULT);
    assertThat(e).hasMessageContaining("maxMessageBytes");
    List<Object> out =
        PoolExecutorContract.drain(
            pool.map(
                (Integer n) -> new byte[n],
                List.of(10, 2 * MAX_MESSAGE, 20),
                MapOptions.defaults().chunkSize(3)));
    assertThat((byte[]) out.get(0)).hasSize(10);
    assertThat(out.get(1)).isInstanceOf(CompletionException.class);
    assertThat((byte[]) out.get(2)).hasSize(20);
    assertPoolStillWorks();
  }

  @Test
  void argumentLargerThanTheMessageLimitFailsInTheCaller() throws Exception {
    byte[] big = new byte[2 * MAX_MESSAGE];
    SerializationException e = failure(pool.submit((byte[] b) -> b.length, big));
    assertThat(e.boundary()).isEqualTo(Boundary.ENCODE_TASK);
    assertThat(e).hasMessageContaining("maxMessageBytes");
    assertPoolStillWorks();
  }

  @Test
  void mapFunctionLargerThanTheMessageLimitFailsTheMapCall() throws Exception {
    byte[] captured = new byte[2 * MAX_MESSAGE];
    assertThatThrownBy(() -> pool.map((Integer i) -> captured[i], List.of(1, 2)))
        .isInstanceOfSatisfying(
            SerializationException.class,
            e -> assertThat(e.boundary()).isEqualTo(Boundary.ENCODE_TASK))
        .hasMessageContaining("maxMessageBytes");
    assertPoolStillWorks();
  }

  // ================================================================ faults in read() and write()

  /**
   * A value whose Kryo {@code write} or {@code read} throws at one boundary: the task fails with
   * that boundary, and a RuntimeException or an Error makes no difference.
   */
  @ParameterizedTest(name = "{1} in {0} -> {2}")
  @CsvSource({
    "ENCODE_IN_CALLER, THROW, ENCODE_TASK",
    "ENCODE_IN_CALLER, ERROR, ENCODE_TASK",
    "DECODE_IN_WORKER, THROW, DECODE_TASK",
    "DECODE_IN_WORKER, ERROR, DECODE_TASK",
    "ENCODE_IN_WORKER, THROW, ENCODE_RESULT",
    "ENCODE_IN_WORKER, ERROR, ENCODE_RESULT",
    "DECODE_IN_CALLER, THROW, DECODE_RESULT",
    "DECODE_IN_CALLER, ERROR, DECODE_RESULT"
  })
  void faultAtABoundaryFailsTheTaskWithThatBoundary(Where where, How how, Boundary expected)
      throws Exception {
    CompletableFuture<Object> f;
    if (where == Where.ENCODE_IN_CALLER || where == Where.DECODE_IN_WORKER) {
      f = pool.submit((Faulty v) -> "never", new Faulty(where, how, 0));
    } else {
      f = pool.submit(() -> new Faulty(where, how, 0));
    }
    SerializationException e = failure(f);
    assertThat(e.boundary()).isEqualTo(expected);
    assertThat(e).hasMessageContaining("on purpose at " + where);
    // A task is no item of any input: no index is shown for it.
    assertThat(e).hasMessageNotContaining("item -1");
    if (expected == Boundary.DECODE_RESULT) {
      assertThat(e).hasMessageContaining("cannot decode the task's result");
    }
    assertPoolStillWorks();
  }

  /** The same faults inside a map: the faulty item fails alone, with its index. */
  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
    "ENCODE_IN_CALLER, ENCODE_TASK",
    "DECODE_IN_WORKER, DECODE_TASK",
    "ENCODE_IN_WORKER, ENCODE_RESULT",
    "DECODE_IN_CALLER, DECODE_RESULT"
  })
  void faultInAMapItemFailsOnlyThatItem(Where where, Boundary expected) {
    boolean inArgument = where == Where.ENCODE_IN_CALLER || where == Where.DECODE_IN_WORKER;
    List<Object> items = Arrays.asList(0, inArgument ? new Faulty(where, How.THROW, 0) : 1, 2);
    SerializableFunction<Object, Object> fn =
        o -> Integer.valueOf(1).equals(o) ? new Faulty(where, How.THROW, 0) : o;
    List<Object> out =
        PoolExecutorContract.drain(pool.map(fn, items, MapOptions.defaults().chunkSize(3)));
    assertThat(out).hasSize(3);
    assertThat(out.get(0)).isEqualTo(0);
    assertThat(out.get(2)).isEqualTo(2);
    assertThat(out.get(1)).isInstanceOf(CompletionException.class);
    SerializationException e = (SerializationException) ((Throwable) out.get(1)).getCause();
    assertThat(e.boundary()).isEqualTo(expected);
    assertThat(e).hasMessageContaining("on purpose at " + where);
    if (expected == Boundary.DECODE_RESULT) {
      assertThat(e).hasMessageContaining("cannot decode the result of item 1");
    }
    if (where != Where.ENCODE_IN_CALLER && where != Where.DECODE_IN_CALLER) {
      assertThat(RemoteTraceback.of(e))
          .hasValueSatisfying(tb -> assertThat(tb.itemIndex()).isEqualTo(1));
    }
  }
}
