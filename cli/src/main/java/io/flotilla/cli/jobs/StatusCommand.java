package io.flotilla.cli.jobs;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.util.JsonFormat;
import io.flotilla.proto.JobRequest;
import io.flotilla.proto.JobStatus;
import io.flotilla.proto.ListJobsReply;
import io.flotilla.proto.ListJobsRequest;
import io.flotilla.proto.ListWorkersReply;
import io.flotilla.proto.ListWorkersRequest;
import io.flotilla.proto.WorkerInfo;
import io.grpc.StatusRuntimeException;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code flotilla status}: the cluster's workers and this client's jobs. */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = {
      "Shows the coordinator's workers and this client's jobs, or one job given its id.",
      "Each worker with its host, pid, cores, load (busy threads of threads) and tasks done. A job whose "
          + "inputs wait with no worker to run them says so, and for how long. With --json, the same as one "
          + "JSON object.",
      "With --watch, the live view of flotilla top instead: workers, jobs and failures from the "
          + "coordinator's dashboard (--dashboard), redrawn every second until Ctrl-C."
    })
public final class StatusCommand implements Callable<Integer> {
  @Mixin JobConnection connection;

  @Parameters(index = "0", arity = "0..1", paramLabel = "ID", description = "One job.")
  String jobId;

  @Option(names = "--json", description = "One JSON object: {\"workers\":[...],\"jobs\":[...]}.")
  boolean json;

  @Option(
      names = "--watch",
      description =
          "Redraw the whole fleet every second from the coordinator's dashboard, as flotilla top does.")
  boolean watch;

  @Option(
      names = "--dashboard",
      paramLabel = "URL",
      description =
          "With --watch: the coordinator's dashboard, HOST:PORT or a URL http(s)://HOST:PORT "
              + "(default 127.0.0.1:8787, over HTTPS with --tls-dir).")
  String dashboard;

  @Option(
      names = "--interval",
      paramLabel = "DURATION",
      description = "With --watch: time between two frames (default 1s).")
  String interval;

  @Override
  @SuppressWarnings("try") // the resource is held only to be closed at the end
  public Integer call() throws Exception {
    if (watch) {
      if (jobId != null || json) {
        throw new IllegalArgumentException(
            "--watch shows the whole fleet, and takes neither a job id nor --json");
      }
      return TopLoop.of(dashboard, interval, connection.tokenFile, connection.tlsDir, "status")
          .watch(System.out, System.err);
    }
    try (JobConnection open = connection) {
      if (jobId != null) {
        JobStatus s = connection.call().getJob(JobRequest.newBuilder().setJobId(jobId).build());
        System.out.println(
            json ? JsonFormat.printer().omittingInsignificantWhitespace().print(s) : jobLine(s));
        if (!json && waitLine(s) != null) {
          System.out.println(waitLine(s));
        }
        return JobExit.OK;
      }
      ListWorkersReply workers =
          connection.call().listWorkers(ListWorkersRequest.getDefaultInstance());
      ListJobsReply jobs = connection.call().listJobs(ListJobsRequest.getDefaultInstance());
      if (json) {
        JsonFormat.Printer p = JsonFormat.printer().alwaysPrintFieldsWithNoPresence();
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode both = mapper.createObjectNode();
        both.set("workers", mapper.readTree(p.print(workers)).get("workers"));
        both.set("jobs", mapper.readTree(p.print(jobs)).get("jobs"));
        System.out.println(mapper.writeValueAsString(both));
        return JobExit.OK;
      }
      System.out.println("workers: " + workers.getWorkersCount());
      System.out.printf(
          Locale.ROOT,
          "  %-22s %-16s %8s %5s %9s %10s%n",
          "ID",
          "HOST",
          "PID",
          "CORES",
          "LOAD",
          "TASKS DONE");
      for (WorkerInfo w : workers.getWorkersList()) {
        System.out.printf(
            Locale.ROOT,
            "  %-22s %-16s %8d %5d %9s %10d%n",
            w.getId(),
            w.getHost(),
            w.getPid(),
            w.getCores(),
            w.getBusy() + "/" + w.getThreads(),
            w.getTasksDone());
      }
      System.out.println("jobs: " + jobs.getJobsCount());
      for (JobStatus s : jobs.getJobsList()) {
        System.out.println("  " + jobLine(s));
        if (waitLine(s) != null) {
          System.out.println("    " + waitLine(s));
        }
      }
      return JobExit.OK;
    } catch (StatusRuntimeException e) {
      return JobExit.report("status", connection.address(), e);
    }
  }

  /**
   * @return e.g. {@code no workers: 12 inputs waiting for 8 s}, or null if the job's inputs do not
   *     wait for want of workers
   */
  static String waitLine(JobStatus s) {
    long ms = s.getWaitingForWorkersMs();
    if (ms <= 0) {
      return null;
    }
    return "no workers: "
        + s.getPending()
        + " inputs waiting for "
        + (ms < 1000 ? ms + " ms" : ms / 1000 + " s");
  }

  /**
   * @return e.g. {@code j-1a2b… isprime RUNNING inputs 10 (closed) ok 7 failed 1 cancelled 0
   *     pending 2}
   */
  static String jobLine(JobStatus s) {
    return String.format(
        Locale.ROOT,
        "%s %s %s inputs %d%s succeeded %d failed %d cancelled %d pending %d created %s",
        s.getJobId(),
        s.getFunction(),
        s.getState(),
        s.getInputsReceived(),
        s.getInputsClosed() ? " (closed)" : " (open)",
        s.getSucceeded(),
        s.getFailed(),
        s.getCancelled(),
        s.getPending(),
        Instant.ofEpochMilli(s.getCreatedUnixMs()));
  }
}
