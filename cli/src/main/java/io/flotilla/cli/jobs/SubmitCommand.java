package io.flotilla.cli.jobs;

import io.flotilla.proto.FunctionInfo;
import io.flotilla.proto.JobStatus;
import io.flotilla.proto.ListFunctionsRequest;
import io.flotilla.proto.SubmitRequest;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code flotilla submit}: runs a registered function on JSON lines, printing results as JSON
 * lines.
 */
@Command(
    name = "submit",
    mixinStandardHelpOptions = true,
    description = {
      "Submits a job to a coordinator and prints its results.",
      "Reads one input per line of JSON (from --input, or standard input) and prints one result per line "
          + "of JSON on standard output:",
      "  {\"index\":N,\"value\":V}, {\"index\":N,\"base64\":B} or {\"index\":N,\"error\":E}",
      "The job id goes to standard error first; after a lost connection, 'flotilla attach ID --from N' "
          + "reads on.",
      "Exit codes: 0 all succeeded, 1 some inputs failed, 2 bad command line or input line, 3 cancelled, "
          + "4 refused (unknown function or job, an input of the wrong type), 5 token, 6 limit, "
          + "7 unreachable, 8 other."
    })
public final class SubmitCommand implements Callable<Integer> {
  @Mixin JobConnection connection;

  @Option(
      names = "--fn",
      required = true,
      paramLabel = "NAME",
      description = "The function (see 'flotilla functions').")
  String function;

  @Option(
      names = "--input",
      paramLabel = "FILE",
      defaultValue = "-",
      description = "JSON lines to read, or - for standard input (the default).")
  String input;

  @ArgGroup(exclusive = true)
  Order order = new Order();

  static final class Order {
    @Option(names = "--ordered", description = "Results in input order (the default).")
    boolean ordered;

    @Option(names = "--unordered", description = "Results as they complete.")
    boolean unordered;
  }

  @Option(
      names = "--key",
      paramLabel = "KEY",
      description =
          "Idempotency key: submitting again with it finds the same job, sends only the inputs it lacks, and prints all its results.")
  String key;

  @Override
  @SuppressWarnings("try") // the resource is held only to be closed at the end
  public Integer call() throws Exception {
    Utf8Lines lines;
    try {
      lines = new Utf8Lines(input.equals("-") ? System.in : Files.newInputStream(Path.of(input)));
    } catch (IOException e) {
      System.err.println("flotilla submit: cannot read " + input + ": " + e.getMessage());
      return JobExit.USAGE;
    }
    try (JobConnection open = connection;
        lines) {
      FunctionInfo info = describe(connection, function);
      JobStatus job =
          connection
              .call()
              .submit(
                  SubmitRequest.newBuilder()
                      .setFunction(function)
                      .setIdempotencyKey(key == null ? "" : key)
                      .build());
      System.err.println(
          "flotilla submit: job "
              + job.getJobId()
              + (job.getExisting() ? " (found again by its key)" : "")
              + "; after a lost connection: flotilla attach "
              + job.getJobId()
              + " --from N");
      PayloadText text = PayloadText.of(info);
      CompletableFuture<InputSender.Stop> sent = new CompletableFuture<>();
      Thread sender =
          new Thread(
              () -> {
                try {
                  sent.complete(
                      job.getInputsClosed()
                          ? null
                          : InputSender.send(
                              connection, job.getJobId(), job.getInputsReceived(), lines, text));
                } catch (Throwable t) {
                  sent.completeExceptionally(t);
                  // Whatever stopped the sending, the job must not wait for inputs that will not
                  // come.
                  try {
                    InputSender.closeInputs(connection, job.getJobId());
                  } catch (InterruptedException | RuntimeException ignored) {
                    // The reader reports what the coordinator says of the job.
                  }
                }
              },
              "flotilla-submit-inputs");
      sender.setDaemon(true);
      sender.start();
      JobStatus end =
          new ResultReader(connection, job.getJobId(), !order.unordered, 0, text, System.out)
              .readAll();
      InputSender.Stop stop;
      try {
        // The job has ended, so the sender has, or waits on input that no longer matters (the job
        // was
        // cancelled while standard input stays open).
        stop = sent.get(10, java.util.concurrent.TimeUnit.SECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        stop = null;
      } catch (ExecutionException e) {
        System.err.println("flotilla submit: sending inputs failed: " + e.getCause());
        return JobExit.OTHER;
      }
      // A job cancelled while its inputs were still going out says so, whatever the sender ran
      // into.
      return stop != null && end.getState() != io.flotilla.proto.JobState.CANCELLED
          ? stop.exitCode()
          : ResultReader.exitCode(end);
    } catch (StatusRuntimeException e) {
      return JobExit.report("submit", connection.address(), e);
    }
  }

  /**
   * @return the function as the coordinator lists it, or a stand-in that passes bytes through when
   *     it is not listed (the submission then says why)
   */
  static FunctionInfo describe(JobConnection connection, String name) {
    for (FunctionInfo f :
        connection
            .call()
            .listFunctions(ListFunctionsRequest.getDefaultInstance())
            .getFunctionsList()) {
      if (f.getName().equals(name)) {
        return f;
      }
    }
    return FunctionInfo.newBuilder()
        .setName(name)
        .setInput(io.flotilla.proto.Encoding.JSON)
        .setOutput(io.flotilla.proto.Encoding.JSON)
        .build();
  }
}
