package io.flotilla.cli.jobs;

import io.flotilla.proto.JobRequest;
import io.flotilla.proto.JobState;
import io.flotilla.proto.JobStatus;
import io.flotilla.proto.Result;
import io.flotilla.proto.ResultBatch;
import io.flotilla.proto.ResultsRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;

/**
 * Reads a job's results to the end and prints them as JSON lines. The stream is reopened from the
 * last result read when its deadline passes or the connection drops for a moment, so a long job is
 * read whole with a deadline on every call; a progress line is drawn on standard error when it is a
 * terminal.
 */
final class ResultReader {
  /** Each results call lasts at most this long, then the reading resumes on a new one. */
  private static final Duration SEGMENT = Duration.ofMinutes(5);

  private static final int RECONNECTS = 5;

  private final JobConnection connection;
  private final String jobId;
  private final boolean ordered;
  private final PayloadText text;
  private final PrintStream out;
  private final Progress progress;
  private long position;
  private long failed;

  ResultReader(
      JobConnection connection,
      String jobId,
      boolean ordered,
      long from,
      PayloadText text,
      PrintStream out) {
    this.connection = connection;
    this.jobId = jobId;
    this.ordered = ordered;
    this.position = from;
    this.text = text;
    this.out = out;
    this.progress = Progress.onTerminal();
  }

  /**
   * @return the job's status once every result is printed
   * @throws StatusRuntimeException if the coordinator refuses, or stays unreachable
   */
  JobStatus readAll() throws InterruptedException {
    int reconnects = 0;
    while (true) {
      Iterator<ResultBatch> stream =
          connection
              .blocking()
              .withDeadlineAfter(
                  Math.max(SEGMENT.toMillis(), connection.deadline().toMillis()),
                  TimeUnit.MILLISECONDS)
              .results(
                  ResultsRequest.newBuilder()
                      .setJobId(jobId)
                      .setOrdered(ordered)
                      .setFrom(position)
                      .build());
      try {
        while (stream.hasNext()) {
          for (Result r : stream.next().getResultsList()) {
            out.println(text.line(r));
            position = r.getPosition() + 1;
            if (r.hasError()) {
              failed++;
            }
            reconnects = 0;
          }
          out.flush();
          progress.show(position, failed, this::status);
        }
        JobStatus status = status();
        progress.done();
        return status;
      } catch (StatusRuntimeException e) {
        Status.Code code = e.getStatus().getCode();
        if (code == Status.Code.DEADLINE_EXCEEDED) {
          continue;
        }
        if (code == Status.Code.UNAVAILABLE && ++reconnects <= RECONNECTS) {
          // A moment's loss of the connection: try again, a little later each time.
          Thread.sleep(200L << reconnects);
          continue;
        }
        progress.done();
        throw e;
      }
    }
  }

  private JobStatus status() {
    return connection.call().getJob(JobRequest.newBuilder().setJobId(jobId).build());
  }

  /**
   * @return the exit code for a job read to its end
   */
  static int exitCode(JobStatus status) {
    if (status.getState() == JobState.CANCELLED) {
      return JobExit.CANCELLED;
    }
    return status.getFailed() > 0 ? JobExit.ITEMS_FAILED : JobExit.OK;
  }

  /**
   * A one-line progress bar, redrawn at most ten times a second; nothing unless stderr is a
   * terminal.
   */
  static final class Progress {
    private final boolean shown;
    private long lastDraw;
    private long lastAsked;
    private long known = -1;

    private Progress(boolean shown) {
      this.shown = shown;
    }

    static Progress onTerminal() {
      return new Progress("1".equals(System.getenv("FLOTILLA_STDERR_TTY")));
    }

    void show(long read, long failed, java.util.function.Supplier<JobStatus> status) {
      long now = System.nanoTime();
      if (!shown || now - lastDraw < 100_000_000L) {
        return;
      }
      lastDraw = now;
      // The total is known once the inputs end; until then the coordinator is asked once a second.
      if (known < 0 && now - lastAsked >= 1_000_000_000L) {
        lastAsked = now;
        JobStatus s = status.get();
        if (s.getInputsClosed()) {
          known = s.getInputsReceived();
        }
      }
      StringBuilder line = new StringBuilder("\r");
      if (known > 0) {
        int width = 30;
        int filled = (int) Math.min(width, read * width / known);
        line.append('[').append("#".repeat(filled)).append(".".repeat(width - filled)).append("] ");
        line.append(read).append('/').append(known);
      } else {
        line.append(read);
      }
      line.append(" results");
      if (failed > 0) {
        line.append(", ").append(failed).append(" failed");
      }
      System.err.print(line.append("   "));
      System.err.flush();
    }

    void done() {
      if (shown && lastDraw != 0) {
        System.err.print("\r\033[K");
        System.err.flush();
      }
    }
  }
}
