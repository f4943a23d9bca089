package io.flotilla;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * Base of the tests that run tasks: a fresh {@link Signals} directory per test, whose gates are all
 * opened when the test ends, however it ends, so that no worker stays blocked on behalf of a
 * finished test.
 *
 * <p>Lambdas sent to workers must capture only local variables (path strings, numbers), never a
 * field: a field would drag the test instance into the payload.
 */
@FlotillaTest
abstract class PoolTestBase {
  @TempDir Path scratch;
  Signals signals;

  @BeforeEach
  void newSignals() {
    signals = new Signals(scratch);
  }

  @AfterEach
  void openGates() {
    signals.openAll();
  }
}
