package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Workers that cannot start (here: a JVM flag the JVM does not know) break the pool with the JVM's
 * own words, instead of being restarted forever or leaving tasks waiting for workers that never
 * come.
 */
@FlotillaTest
class UnstartableWorkersTest {
  private ProcessPool pool;

  @AfterEach
  void stop() throws Exception {
    Pools.shutDown(pool);
  }

  @Test
  void aBadJvmFlagBreaksThePoolWithTheJvmsError() throws Exception {
    pool = Pools.process(ProcessPool.builder().workers(2).jvmArgs("-XX:+NoSuchFlotillaFlag"));
    CompletableFuture<Integer> waiting = pool.submit(() -> 1);
    Throwable failure = catchThrowable(() -> waiting.get(60, TimeUnit.SECONDS));
    assertThat(failure).isInstanceOf(ExecutionException.class);
    assertThat(failure.getCause())
        .isInstanceOf(BrokenPoolException.class)
        .hasMessageContaining("keep exiting before they are ready")
        .hasMessageContaining("NoSuchFlotillaFlag");
    assertThatThrownBy(() -> pool.submit(() -> 2)).isInstanceOf(BrokenPoolException.class);
    assertThat(pool.stats().replacements()).as("gave up after a few").isLessThanOrEqualTo(3);
  }

  @Test
  void aJavaThatCannotBeRunBreaksThePoolWithTheReason() throws Exception {
    pool = Pools.process(ProcessPool.builder().workers(2).javaExecutable("/nonexistent/bin/java"));
    // Broken before build() returns: the first launch failed.
    assertThatThrownBy(() -> pool.submit(() -> 1))
        .isInstanceOf(BrokenPoolException.class)
        .hasMessageContaining("cannot start a worker JVM")
        .hasMessageContaining("/nonexistent/bin/java");
  }
}
