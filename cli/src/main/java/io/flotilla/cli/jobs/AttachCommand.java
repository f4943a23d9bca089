package io.flotilla.cli.jobs;

import io.flotilla.proto.JobRequest;
import io.flotilla.proto.JobStatus;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code flotilla attach}: reads a job's results again, from where a reader stopped. */
@Command(
    name = "attach",
    mixinStandardHelpOptions = true,
    description = {
      "Reads a job's results as 'flotilla submit' prints them, until the job ends.",
      "Skips the first N (--from). Results stay readable for the coordinator's --job-retention after the "
          + "job finishes. Exit codes as submit's."
    })
public final class AttachCommand implements Callable<Integer> {
  @Mixin JobConnection connection;

  @Parameters(index = "0", paramLabel = "ID", description = "The job id submit printed.")
  String jobId;

  @Option(
      names = "--from",
      paramLabel = "N",
      defaultValue = "0",
      description = "Results already read, in the chosen order: they are skipped.")
  long from;

  @Option(
      names = "--unordered",
      description = "Results in the order they completed, not input order.")
  boolean unordered;

  @Override
  @SuppressWarnings("try") // the resource is held only to be closed at the end
  public Integer call() throws Exception {
    if (from < 0) {
      System.err.println("flotilla attach: --from must not be negative");
      return JobExit.USAGE;
    }
    try (JobConnection open = connection) {
      JobStatus job = connection.call().getJob(JobRequest.newBuilder().setJobId(jobId).build());
      PayloadText text = PayloadText.of(SubmitCommand.describe(connection, job.getFunction()));
      JobStatus end =
          new ResultReader(connection, jobId, !unordered, from, text, System.out).readAll();
      return ResultReader.exitCode(end);
    } catch (StatusRuntimeException e) {
      return JobExit.report("attach", connection.address(), e);
    }
  }
}
