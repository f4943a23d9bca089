package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The {@link PoolExecutorContract} on worker JVMs, plus what only a process pool does. */
class ProcessPoolContractTest extends PoolExecutorContract {
  private static ProcessPool pool;

  @BeforeAll
  static void startPool() {
    pool = Pools.process(ProcessPool.builder().workers(2));
  }

  @AfterAll
  static void stopPool() throws InterruptedException {
    Pools.shutDown(pool);
  }

  @Override
  PoolExecutor pool() {
    return pool;
  }

  @Override
  boolean remote() {
    return true;
  }

  @Test
  void tasksRunInAnotherProcessNamedByTheRemoteTraceback() throws Exception {
    long here = ProcessHandle.current().pid();
    long there = get(pool.submit(() -> ProcessHandle.current().pid()));
    assertThat(there).isNotEqualTo(here);
    assertThat(pool.workerPids()).contains(there);

    Throwable thrown =
        catchThrowable(
            () ->
                get(
                    pool.submit(
                        () -> {
                          throw new UnsupportedOperationException(
                              "in pid " + ProcessHandle.current().pid());
                        })));
    Throwable cause = thrown.getCause();
    RemoteTraceback tb = RemoteTraceback.of(thrown).orElseThrow();
    assertThat(cause).hasMessage("in pid " + tb.pid());
    assertThat(pool.workerPids()).contains(tb.pid());
    assertThat(tb.workerId()).isNotBlank();
    assertThat(tb.host()).isNotBlank();
    assertThat(tb.getMessage()).contains("pid " + tb.pid());
    assertThat(cause.getStackTrace())
        .as("the worker's own frames")
        .anySatisfy(
            f -> assertThat(f.getClassName()).startsWith(ProcessPoolContractTest.class.getName()));
  }

  @Test
  void fiftyMegabyteResultArrivesIntact() throws Exception {
    int size = 50 * 1024 * 1024;
    CompletableFuture<byte[]> f =
        pool.submit(
            () -> {
              byte[] b = new byte[size];
              for (int i = 0; i < size; i++) {
                b[i] = (byte) (i * 31 + (i >>> 13));
              }
              return b;
            });
    byte[] result = get(f);
    assertThat(result).hasSize(size);
    for (int i = 0; i < size; i++) {
      if (result[i] != (byte) (i * 31 + (i >>> 13))) {
        throw new AssertionError("byte " + i + " differs: " + result[i]);
      }
    }
  }

  @Test
  void exceptionWhoseClassCannotBeRebuiltArrivesAsRemoteExceptionWithItsNameAndMessage() {
    CompletableFuture<Integer> f =
        pool.submit(
            () -> {
              throw new Payloads.CodedException(7);
            });
    assertThatThrownBy(() -> get(f))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOfSatisfying(
            RemoteException.class,
            e -> assertThat(e.remoteClassName()).isEqualTo(Payloads.CodedException.class.getName()))
        .hasMessageContaining("failed with code 7");
  }

  @Test
  void aWorkerKeepsNoStateThatLeaksIntoTheCaller() throws Exception {
    String key = "flotilla.test.leak";
    get(pool.submit(() -> System.setProperty(key, "set in a worker")));
    assertThat(System.getProperty(key)).isNull();
  }
}
