package io.flotilla.internal.worker;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** When a worker host starts its task JVM again: the policy alone, on a made-up clock. */
class RestartBackoffTest {
  private static final long SECOND = 1_000_000_000L;

  private final RestartBackoff backoff = new RestartBackoff();

  @Test
  void aTaskJvmThatDiesNowAndThenIsStartedAgainAtOnce() {
    for (int i = 0; i < 100; i++) {
      assertThat(backoff.afterDeath(false, 3 * SECOND * i)).as("death %d", i).isZero();
    }
  }

  @Test
  void aStormOfDeathsIsSlowedDownMoreWithEachAndForgottenOnceItEnds() {
    long t = 0;
    for (int i = 0; i < RestartBackoff.FREE_RESTARTS; i++) {
      assertThat(backoff.afterDeath(false, t += SECOND / 10)).isZero();
    }
    assertThat(backoff.afterDeath(false, t += SECOND / 10))
        .isEqualTo(RestartBackoff.FIRST_DELAY_NANOS);
    assertThat(backoff.afterDeath(false, t += SECOND / 10))
        .isEqualTo(2 * RestartBackoff.FIRST_DELAY_NANOS);
    assertThat(backoff.afterDeath(false, t += SECOND / 10))
        .isEqualTo(4 * RestartBackoff.FIRST_DELAY_NANOS);
    assertThat(backoff.recentDeaths(t)).isEqualTo(RestartBackoff.FREE_RESTARTS + 3);
    // Quiet for longer than the window: the storm is over.
    t += RestartBackoff.WINDOW_NANOS + SECOND;
    assertThat(backoff.recentDeaths(t)).isZero();
    assertThat(backoff.afterDeath(false, t)).isZero();
  }

  @Test
  void aJvmThatCannotStartWaitsFromItsFirstFailureAndNeverLongerThanTheCap() {
    long t = 0;
    long wait = 0;
    for (int i = 0; i < 30; i++) {
      long next = backoff.afterDeath(true, t += 100 * SECOND);
      assertThat(next).as("failure %d", i).isGreaterThanOrEqualTo(wait).isPositive();
      wait = next;
    }
    assertThat(wait).isEqualTo(RestartBackoff.MAX_DELAY_NANOS);
    // Once one becomes ready, a later death is news of its own, not a start-up failure.
    assertThat(backoff.afterDeath(false, t += 100 * SECOND)).isZero();
    assertThat(backoff.afterDeath(true, t += 100 * SECOND))
        .isEqualTo(RestartBackoff.FIRST_DELAY_NANOS);
  }
}
