package io.flotilla.cli.jobs;

import io.flotilla.proto.JobRequest;
import io.flotilla.proto.JobStatus;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code flotilla cancel}: drops a job's inputs that have not started. */
@Command(
    name = "cancel",
    mixinStandardHelpOptions = true,
    description = {
      "Cancels a job.",
      "Inputs not started are dropped (their results say \"Cancelled\"), running chunks stop at their next "
          + "input, and the job takes no more inputs. Results computed stay readable. Exit codes as "
          + "submit's (4 for an unknown job)."
    })
public final class CancelCommand implements Callable<Integer> {
  @Mixin JobConnection connection;

  @Parameters(index = "0", paramLabel = "ID", description = "The job id.")
  String jobId;

  @Override
  @SuppressWarnings("try") // the resource is held only to be closed at the end
  public Integer call() {
    try (JobConnection open = connection) {
      JobStatus s = connection.call().cancel(JobRequest.newBuilder().setJobId(jobId).build());
      System.out.println(StatusCommand.jobLine(s));
      return JobExit.OK;
    } catch (StatusRuntimeException e) {
      return JobExit.report("cancel", connection.address(), e);
    }
  }
}
