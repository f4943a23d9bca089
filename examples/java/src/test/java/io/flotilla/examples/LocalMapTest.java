package io.flotilla.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalMapTest {
  @TempDir Path dir;

  @Test
  void threadsAndWorkerJvmsCountTheSamePrimes() throws Exception {
    ExampleProgram.Output out = ExampleProgram.run(dir, Map.of(), LocalMap.class);
    assertThat(out.lines())
        .as(out.text())
        .contains("threads:   1229 primes below 10000", "processes: 1229 primes below 10000");
  }
}
