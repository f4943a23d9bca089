package io.flotilla;

import java.time.Duration;

/**
 * Every waiting bound in the tests, scaled by one factor ({@code -Dflotilla.test.timeFactor=3} on a
 * slow machine), in the spirit of JSR166TestCase's delay factor. Bounds are ceilings for things
 * that normally take milliseconds; no test waits them out unless it fails.
 */
final class TestTime {
  private static final double FACTOR =
      Double.parseDouble(System.getProperty("flotilla.test.timeFactor", "1"));

  /** Ceiling for one event: a worker starting, a task finishing, a process exiting. */
  static final Duration LONG = scaled(Duration.ofSeconds(30));

  /** How long a worker-side gate waits before giving up on a test that forgot to open it. */
  static final Duration GATE = scaled(Duration.ofSeconds(45));

  private TestTime() {}

  static Duration scaled(Duration d) {
    return Duration.ofNanos((long) (d.toNanos() * FACTOR));
  }
}
