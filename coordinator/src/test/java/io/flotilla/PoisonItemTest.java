package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A poison item inside a chunk of 100 (it kills every worker that runs it): the chunk is split in
 * halves until the item is alone, so only that item fails, with its own index, and the other 99
 * complete.
 */
@FlotillaTest
class PoisonItemTest {
  private ProcessPool pool;

  @AfterEach
  void stop() throws Exception {
    Pools.shutDown(pool);
  }

  @Test
  void onlyThePoisonItemFailsAndTheRestOfItsChunkCompletes() throws Exception {
    pool = Pools.process(ProcessPool.builder().workers(2).maxAttempts(2));
    SerializableFunction<Integer, Integer> fn =
        x -> {
          if (x == 37) {
            Runtime.getRuntime().halt(41);
          }
          return x + 1000;
        };
    List<Object> out =
        PoolExecutorContract.drain(
            pool.map(
                fn,
                IntStream.range(0, 100).boxed().toList(),
                MapOptions.defaults().chunkSize(100)));
    assertThat(out).hasSize(100);
    for (int i = 0; i < 100; i++) {
      if (i == 37) {
        assertThat(out.get(i)).isInstanceOf(CompletionException.class);
        WorkerCrashedException crash = (WorkerCrashedException) ((Throwable) out.get(i)).getCause();
        assertThat(crash.itemIndex()).isEqualTo(37);
        assertThat(crash.exitCode()).isEqualTo(41);
        assertThat(crash.attempts()).isEqualTo(2);
      } else {
        assertThat(out.get(i)).as("item %d", i).isEqualTo(i + 1000);
      }
    }
    assertThat(pool.stats().crashes()).isBetween(2L + 2, 2L + 10);
  }
}
