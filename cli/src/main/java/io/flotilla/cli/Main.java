package io.flotilla.cli;

import io.flotilla.cli.chaos.ChaosCommand;
import io.flotilla.cli.demo.DemoCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code flotilla} command. */
@Command(
    name = "flotilla",
    mixinStandardHelpOptions = true,
    version = "flotilla 0.1.0",
    description = "concurrent.futures for the JVM: a pool of worker JVMs behind ExecutorService.",
    subcommands = {DemoCommand.class, ChaosCommand.class})
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /**
   * Runs the command line and exits with its status.
   *
   * @param args the arguments
   */
  public static void main(String[] args) {
    System.exit(new CommandLine(new Main()).execute(args));
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
