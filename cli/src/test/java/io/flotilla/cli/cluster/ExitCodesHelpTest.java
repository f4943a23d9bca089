package io.flotilla.cli.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.cli.Main;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Supervisors and scripts act on the exit codes of {@code flotilla coordinator} and {@code flotilla
 * worker}: each is listed in the command's help. The lifecycle tests check that the processes exit
 * with them.
 */
class ExitCodesHelpTest {
  private static String help(String command) {
    return new CommandLine(new Main())
        .getSubcommands()
        .get(command)
        .getUsageMessage(CommandLine.Help.Ansi.OFF);
  }

  @Test
  void theCoordinatorsHelpListsEveryExitCode() {
    String help = help("coordinator");
    assertThat(help).contains("Exit codes:");
    assertThat(help).containsPattern("(?m)^\\s+0\\s+Stopped as asked");
    assertThat(help).containsPattern("(?m)^\\s+1\\s+");
    assertThat(help).containsPattern("(?m)^\\s+2\\s+");
  }

  @Test
  void theWorkersHelpListsEveryExitCode() {
    String help = help("worker");
    assertThat(help).contains("Exit codes:");
    assertThat(help).containsPattern("(?m)^\\s+0\\s+Stopped as asked");
    for (int code : new int[] {1, 2, 64, 66}) {
      assertThat(help).containsPattern("(?m)^\\s+" + code + "\\s+");
    }
    // A task JVM told to make way for a fresh one is started again by the worker itself.
    assertThat(help).doesNotContainPattern("(?m)^\\s+67\\s+");
  }

  /** {@code flotilla top} uses the job commands' codes for the same troubles. */
  @Test
  void topsHelpListsEveryExitCode() {
    String help = help("top");
    assertThat(help).contains("Exit codes:");
    for (int code : new int[] {0, 2, 5, 7, 8, 130}) {
      assertThat(help).containsPattern("(?m)^\\s+" + code + "\\s+");
    }
  }
}
