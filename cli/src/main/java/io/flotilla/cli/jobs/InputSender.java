package io.flotilla.cli.jobs;

import com.google.protobuf.ByteString;
import io.flotilla.proto.InputBatch;
import io.flotilla.proto.JobRequest;
import io.flotilla.proto.JobStatus;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Feeds a job its inputs, one JSON line each, as fast as the coordinator's flow control lets it:
 * the coordinator stops reading while the job has its limit of inputs in flight, and this sender
 * then waits instead of buffering. A batch goes out when it is full, or when no more input is
 * ready, so that an interactive producer sees results without closing its end.
 *
 * <p>Inputs travel in segments of a few batches, each one {@code SendInputs} call with the
 * connection's deadline. A segment whose call fails for a passing reason (the deadline, while flow
 * control held it; a dropped connection) is sent again from the job's count of inputs, so no input
 * is lost or doubled. An input line that cannot be read, or that the coordinator refuses, stops the
 * sending: the job's inputs are then closed where they are, so that the results of every input
 * before it still arrive.
 */
final class InputSender implements ClientResponseObserver<InputBatch, JobStatus> {
  private static final int BATCH_ITEMS = 256;
  private static final int BATCH_BYTES = 512 * 1024;
  private static final int SEGMENT_BATCHES = 16;
  private static final int RETRIES = 5;

  /** Why sending stopped early: the exit code, its message already printed. */
  record Stop(int exitCode) {}

  private final Object ready = new Object();
  private final CompletableFuture<JobStatus> reply = new CompletableFuture<>();
  private ClientCallStreamObserver<InputBatch> stream;

  @Override
  public void beforeStart(ClientCallStreamObserver<InputBatch> requestStream) {
    stream = requestStream;
    requestStream.setOnReadyHandler(
        () -> {
          synchronized (ready) {
            ready.notifyAll();
          }
        });
  }

  @Override
  public void onNext(JobStatus value) {
    reply.complete(value);
  }

  @Override
  public void onError(Throwable t) {
    reply.completeExceptionally(t);
    synchronized (ready) {
      ready.notifyAll();
    }
  }

  @Override
  public void onCompleted() {}

  /**
   * Sends every line of {@code input} after the first {@code skip} ones, then the end of inputs.
   *
   * @param connection where to
   * @param jobId the job
   * @param skip lines the job already has (a resubmission resumes)
   * @param input JSON lines
   * @param text how lines become inputs
   * @return null when every line was sent, else why it stopped (already reported on standard error)
   */
  static Stop send(
      JobConnection connection, String jobId, long skip, Utf8Lines input, PayloadText text)
      throws IOException, InterruptedException {
    long next = skip;
    long lineNo = 0;
    long inputs = 0;
    boolean eof = false;
    while (!eof) {
      List<List<ByteString>> segment = new ArrayList<>();
      List<ByteString> batch = new ArrayList<>();
      long bytes = 0;
      String refusal = null;
      while (segment.size() < SEGMENT_BATCHES) {
        String line;
        try {
          line = input.readLine();
        } catch (java.nio.charset.CharacterCodingException e) {
          refusal = e.getMessage();
          break;
        }
        if (line == null) {
          eof = true;
          break;
        }
        lineNo++;
        if (!line.isBlank() && ++inputs > skip) {
          try {
            ByteString item = ByteString.copyFrom(text.input(line));
            batch.add(item);
            bytes += item.size();
          } catch (IllegalArgumentException e) {
            refusal = "input " + (inputs - 1) + " (line " + lineNo + "): " + e.getMessage();
            break;
          }
        }
        if (batch.isEmpty()) {
          continue;
        }
        if (batch.size() >= BATCH_ITEMS || bytes >= BATCH_BYTES || !input.ready()) {
          segment.add(batch);
          batch = new ArrayList<>();
          bytes = 0;
          if (!input.ready()) {
            break;
          }
        }
      }
      if (!batch.isEmpty()) {
        segment.add(batch);
      }
      Stop stop = deliver(connection, jobId, next, segment, eof && refusal == null);
      if (stop != null) {
        return stop;
      }
      next += count(segment);
      if (refusal != null) {
        System.err.println(
            "flotilla submit: "
                + refusal
                + "; nothing from it on was sent, and the job's inputs end before it");
        closeInputs(connection, jobId);
        return new Stop(JobExit.USAGE);
      }
    }
    return null;
  }

  /**
   * Sends one segment, again from where the job's inputs end whenever a call fails for a passing
   * reason.
   *
   * @return null once the job has the whole segment, else why not (reported)
   */
  private static Stop deliver(
      JobConnection connection,
      String jobId,
      long first,
      List<List<ByteString>> segment,
      boolean end)
      throws InterruptedException {
    if (segment.isEmpty() && !end) {
      return null;
    }
    int retries = 0;
    boolean resuming = false;
    while (true) {
      InputSender sender = new InputSender();
      connection
          .async()
          .withDeadlineAfter(connection.deadline().toMillis(), TimeUnit.MILLISECONDS)
          .sendInputs(sender);
      long at = first;
      boolean written = true;
      for (int i = 0; i < segment.size() && written; i++) {
        written = sender.write(jobId, at, segment.get(i), end && i == segment.size() - 1);
        at += segment.get(i).size();
      }
      if (written && segment.isEmpty() && end) {
        written = sender.write(jobId, first, List.of(), true);
      }
      if (written) {
        sender.stream.onCompleted();
      }
      try {
        sender.reply.get();
        return null;
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof StatusRuntimeException s)) {
          throw new IllegalStateException(e.getCause());
        }
        // A deadline that passed while flow control held the stream is no failure: the job is busy.
        // A
        // lost connection is tried again a few times. After either, a batch of the broken stream
        // may
        // have been taken after all, so a resent one that no longer fits the job's count is
        // re-counted.
        Status.Code code = s.getStatus().getCode();
        boolean passing =
            code == Status.Code.DEADLINE_EXCEEDED
                || (code == Status.Code.UNAVAILABLE && ++retries <= RETRIES)
                || (code == Status.Code.FAILED_PRECONDITION && resuming && ++retries <= RETRIES);
        JobStatus status = passing ? status(connection, jobId) : null;
        if (status == null
            || (status.getInputsClosed() && code == Status.Code.FAILED_PRECONDITION)) {
          int exit = JobExit.report("submit", connection.address(), s);
          closeInputs(connection, jobId);
          return new Stop(exit);
        }
        resuming = true;
        long taken = status.getInputsReceived() - first;
        if (taken > 0) {
          retries = 0;
        }
        segment = drop(segment, taken);
        first = status.getInputsReceived();
        if (segment.isEmpty() && (!end || status.getInputsClosed())) {
          return null;
        }
      }
    }
  }

  /**
   * @return the job's status, asked again a few times while the coordinator is briefly out of reach
   */
  private static JobStatus status(JobConnection connection, String jobId)
      throws InterruptedException {
    for (int attempt = 0; ; attempt++) {
      try {
        return connection.call().getJob(JobRequest.newBuilder().setJobId(jobId).build());
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.UNAVAILABLE || attempt >= RETRIES) {
          return null;
        }
        Thread.sleep(200L << attempt);
      }
    }
  }

  private static long count(List<List<ByteString>> segment) {
    return segment.stream().mapToInt(List::size).sum();
  }

  /**
   * @return the segment without its first {@code n} inputs
   */
  private static List<List<ByteString>> drop(List<List<ByteString>> segment, long n) {
    List<List<ByteString>> rest = new ArrayList<>();
    for (List<ByteString> batch : segment) {
      if (n >= batch.size()) {
        n -= batch.size();
      } else {
        rest.add(batch.subList((int) Math.max(0, n), batch.size()));
        n = 0;
      }
    }
    return rest;
  }

  /** Ends a job's inputs where they are, so that it finishes with what it has. */
  static void closeInputs(JobConnection connection, String jobId) throws InterruptedException {
    long received;
    try {
      received =
          connection
              .call()
              .getJob(JobRequest.newBuilder().setJobId(jobId).build())
              .getInputsReceived();
    } catch (StatusRuntimeException e) {
      return;
    }
    InputSender closer = new InputSender();
    connection
        .async()
        .withDeadlineAfter(connection.deadline().toMillis(), TimeUnit.MILLISECONDS)
        .sendInputs(closer);
    if (closer.write(jobId, received, List.of(), true)) {
      closer.stream.onCompleted();
    }
    try {
      closer.reply.get();
    } catch (ExecutionException e) {
      // Already closed, or cancelled: either way it finishes with what it has.
    }
  }

  /**
   * @return false if the stream failed; its reply says why
   */
  private boolean write(String jobId, long first, List<ByteString> items, boolean end)
      throws InterruptedException {
    synchronized (ready) {
      while (!stream.isReady() && !reply.isDone()) {
        ready.wait();
      }
    }
    if (reply.isDone()) {
      return false;
    }
    stream.onNext(
        InputBatch.newBuilder()
            .setJobId(jobId)
            .setFirstIndex(first)
            .addAllItems(items)
            .setEndOfInputs(end)
            .build());
    return true;
  }
}
