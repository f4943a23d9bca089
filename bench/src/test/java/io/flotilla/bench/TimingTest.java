package io.flotilla.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class TimingTest {
  @Test
  void medianOfOddAndEvenCounts() {
    assertThat(Timing.median(new double[] {3, 1, 2})).isEqualTo(2);
    assertThat(Timing.median(new double[] {4, 1, 3, 2})).isEqualTo(2.5);
  }

  @Test
  void nearestRankPercentiles() {
    long[] hundred = new long[100];
    for (int i = 0; i < 100; i++) {
      hundred[i] = i + 1L;
    }
    assertThat(Timing.percentile(hundred, 50)).isEqualTo(50);
    assertThat(Timing.percentile(hundred, 99)).isEqualTo(99);
    assertThat(Timing.percentile(new long[] {7}, 99)).isEqualTo(7);
  }

  @Test
  void warmUpsAreUntimedAndChecksumsCompared() throws Exception {
    AtomicInteger warm = new AtomicInteger();
    AtomicInteger timed = new AtomicInteger();
    Timing.Measured same =
        Timing.median(
            2,
            Duration.ZERO,
            () -> warm.incrementAndGet(),
            3,
            () -> {
              timed.incrementAndGet();
              return 42;
            });
    assertThat(warm).hasValue(2);
    assertThat(timed).hasValue(3);
    assertThat(same.checksum()).isEqualTo(42);
    assertThat(same.consistent()).isTrue();
    assertThat(Timing.median(0, Duration.ZERO, () -> 0, 2, timed::incrementAndGet).consistent())
        .isFalse();
  }

  @Test
  void warmUpGoesOnForTheLeastWarmTime() throws Exception {
    AtomicInteger warm = new AtomicInteger();
    long start = System.nanoTime();
    Timing.median(1, Duration.ofMillis(200), () -> warm.incrementAndGet(), 1, () -> 0);
    assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(Duration.ofMillis(200).toNanos());
    assertThat(warm.get()).as("one quick run is not enough warm-up").isGreaterThan(1);
  }
}
