package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;

/**
 * Every option is checked when it is set, and the message shows the bad value. No pool is started.
 */
@FlotillaTest
class OptionsValidationTest {

  @Test
  void mapOptionsRejectBadValuesNamingThem() {
    assertThatThrownBy(() -> MapOptions.defaults().chunkSize(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("chunkSize")
        .hasMessageContaining("was 0");
    assertThatThrownBy(() -> MapOptions.defaults().chunkSize(-5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("was -5");
    assertThatThrownBy(() -> MapOptions.defaults().window(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("window")
        .hasMessageContaining("was 0");
    assertThatThrownBy(() -> MapOptions.defaults().timeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("timeout")
        .hasMessageContaining("PT0S");
    assertThatThrownBy(() -> MapOptions.defaults().timeout(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PT-1S");
    assertThatThrownBy(() -> MapOptions.defaults().timeout(null))
        .isInstanceOf(NullPointerException.class);
  }

  @Test
  void mapOptionsAreImmutable() {
    MapOptions defaults = MapOptions.defaults();
    MapOptions set = defaults.chunkSize(3).window(7).timeout(Duration.ofSeconds(2));
    assertThat(defaults.chunkSize()).isZero();
    assertThat(defaults.window()).isZero();
    assertThat(defaults.timeout()).isNull();
    assertThat(set.chunkSize()).isEqualTo(3);
    assertThat(set.window()).isEqualTo(7);
    assertThat(set.timeout()).isEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void processPoolBuilderRejectsBadValuesNamingThem() {
    assertThatThrownBy(() -> ProcessPool.builder().workers(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("workers")
        .hasMessageContaining("was 0");
    assertThatThrownBy(() -> ProcessPool.local(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("was -1");
    assertThatThrownBy(() -> ProcessPool.builder().threadsPerWorker(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("threadsPerWorker")
        .hasMessageContaining("was 0");
    assertThatThrownBy(() -> ProcessPool.builder().maxAttempts(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxAttempts")
        .hasMessageContaining("was 0");
    assertThatThrownBy(() -> ProcessPool.builder().maxMessageBytes(1000))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxMessageBytes")
        .hasMessageContaining("was 1000");
    assertThatThrownBy(() -> ProcessPool.builder().jvmArgs("-Xmx1g", " "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("JVM argument");
    assertThatThrownBy(() -> ProcessPool.builder().systemProperty("a=b", "c"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("a=b");
    assertThatThrownBy(() -> ProcessPool.builder().environment("", "c"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("environment variable");
    assertThatThrownBy(() -> ProcessPool.builder().classPath(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("classPath");
    assertThatThrownBy(() -> ProcessPool.builder().javaExecutable(""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("javaExecutable");
  }

  @Test
  void threadPoolRejectsBadSizeNamingIt() {
    assertThatThrownBy(() -> ThreadPool.of(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("threads")
        .hasMessageContaining("was 0");
  }

  @Test
  void futuresRejectANegativeTimeoutAndForeignFutures() {
    assertThatThrownBy(() -> Futures.asCompleted(List.of(), Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PT-0.001S");
    java.util.concurrent.FutureTask<Integer> foreign =
        new java.util.concurrent.FutureTask<>(() -> 1);
    assertThatThrownBy(() -> Futures.wait(List.of(foreign), null, ReturnWhen.ALL_COMPLETED))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("FutureTask");
  }

  @Test
  void invokeAnyNeedsATask() throws Exception {
    try (ThreadPool pool = ThreadPool.of(1)) {
      assertThatThrownBy(() -> pool.invokeAny(List.<Callable<Integer>>of()))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }
}
