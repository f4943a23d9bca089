package io.flotilla.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class FlotillaVersionTest {
  @Test
  void mavenFilledInTheProjectVersion() {
    assertThat(FlotillaVersion.get()).matches("\\d+\\.\\d+\\.\\d+.*").doesNotContain("${");
  }
}
