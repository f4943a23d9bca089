package io.flotilla.cli.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@code flotilla coordinator --no-workers-timeout}, as people write it. */
class NoWorkersTimeoutOptionTest {
  @Test
  void takesDurationsWithTheirUnitsAndABareZeroForEver() {
    assertThat(CoordinatorCommand.patience("60s")).isEqualTo(Duration.ofSeconds(60));
    assertThat(CoordinatorCommand.patience("2m")).isEqualTo(Duration.ofMinutes(2));
    assertThat(CoordinatorCommand.patience("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(CoordinatorCommand.patience("0")).isZero();
    assertThat(CoordinatorCommand.patience("0s")).isZero();
  }

  @Test
  void refusesWhatIsNoDurationOrLessThanNone() {
    assertThatThrownBy(() -> CoordinatorCommand.patience("soon"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'soon' is not a duration");
    assertThatThrownBy(() -> CoordinatorCommand.patience("PT-5S"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must not be negative");
  }

  @Test
  void theHelpNamesTheOptionAndItsDefault() {
    String help =
        new picocli.CommandLine(new io.flotilla.cli.Main())
            .getSubcommands()
            .get("coordinator")
            .getUsageMessage(picocli.CommandLine.Help.Ansi.OFF);
    assertThat(help).contains("--no-workers-timeout=DURATION").contains("default 60s");
  }
}
