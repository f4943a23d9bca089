package io.flotilla.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FailuresTest {
  @TempDir Path dir;

  @Test
  void eachFailureReachesTheCallerAndThePoolGoesOn() throws Exception {
    ExampleProgram.Output out = ExampleProgram.run(dir, Map.of(), Failures.class);
    assertThat(out.lines())
        .as(out.text())
        .anyMatch(
            l ->
                l.matches(
                    "task failed: java.lang.NumberFormatException: For input string: \"forty-two\""
                        + " \\(in worker pid [1-9]\\d*\\)"))
        .containsSubsequence(
            "item: 1",
            "item 1 failed: java.lang.NumberFormatException: For input string: \"two\"",
            "item: 3")
        .anyMatch(l -> l.matches("worker crashed: pid [1-9]\\d*, exit code 3"))
        .endsWith("the pool goes on: 7");
  }
}
