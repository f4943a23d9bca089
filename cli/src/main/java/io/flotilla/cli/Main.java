package io.flotilla.cli;

import io.flotilla.bench.BenchCommand;
import io.flotilla.cli.chaos.ChaosCommand;
import io.flotilla.cli.cluster.CoordinatorCommand;
import io.flotilla.cli.cluster.WorkerCommand;
import io.flotilla.cli.demo.DemoCommand;
import io.flotilla.cli.jmh.JmhCommand;
import io.flotilla.cli.jobs.AttachCommand;
import io.flotilla.cli.jobs.CancelCommand;
import io.flotilla.cli.jobs.FunctionsCommand;
import io.flotilla.cli.jobs.StatusCommand;
import io.flotilla.cli.jobs.SubmitCommand;
import io.flotilla.cli.jobs.TopCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code flotilla} command. */
@Command(
    name = "flotilla",
    mixinStandardHelpOptions = true,
    version = "flotilla 0.1.0",
    description = "concurrent.futures for the JVM: a pool of worker JVMs behind ExecutorService.",
    subcommands = {
      DemoCommand.class,
      BenchCommand.class,
      ChaosCommand.class,
      JmhCommand.class,
      CoordinatorCommand.class,
      WorkerCommand.class,
      FunctionsCommand.class,
      SubmitCommand.class,
      StatusCommand.class,
      TopCommand.class,
      AttachCommand.class,
      CancelCommand.class
    })
public final class Main implements Runnable {
  /**
   * gRPC logs through java.util.logging, and warns about every stream a killed worker leaves
   * half-written: expected news for a pool that replaces workers. Held here because JUL keeps
   * loggers weakly.
   */
  private static final java.util.logging.Logger GRPC_LOG =
      java.util.logging.Logger.getLogger("io.grpc");

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /**
   * Runs the command line and exits with its status.
   *
   * @param args the arguments
   */
  public static void main(String[] args) {
    GRPC_LOG.setLevel(java.util.logging.Level.SEVERE);
    System.exit(
        new CommandLine(new Main())
            // A value the options could not catch (an address that is no host:port, a file that
            // cannot
            // be read) is a wrong command line: its message, and exit 2, as picocli does for the
            // rest.
            .setExecutionExceptionHandler(
                (e, command, parsed) -> {
                  if (e instanceof IllegalArgumentException
                      || e instanceof java.io.UncheckedIOException) {
                    command
                        .getErr()
                        .println("flotilla " + command.getCommandName() + ": " + e.getMessage());
                    return 2;
                  }
                  throw e;
                })
            .execute(args));
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
