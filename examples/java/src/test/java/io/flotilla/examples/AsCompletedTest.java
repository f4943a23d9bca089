package io.flotilla.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AsCompletedTest {
  @TempDir Path dir;

  /**
   * Which finishes first depends on when each worker JVM came up: the test checks each arrives
   * once.
   */
  @Test
  void everyResultArrivesOnce() throws Exception {
    ExampleProgram.Output out = ExampleProgram.run(dir, Map.of(), AsCompleted.class);
    assertThat(out.lines().stream().filter(l -> l.startsWith("finished: ")))
        .as(out.text())
        .containsExactlyInAnyOrder(
            "finished: slept 1500 ms", "finished: slept 100 ms", "finished: slept 800 ms");
    assertThat(out.lines().stream().filter(l -> l.startsWith("unordered: ")))
        .as(out.text())
        .containsExactlyInAnyOrder(
            "unordered: slept 600 ms", "unordered: slept 50 ms", "unordered: slept 300 ms");
  }
}
