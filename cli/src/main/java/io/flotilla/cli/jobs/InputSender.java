package io.flotilla.cli.jobs;

import com.google.protobuf.ByteString;
import io.flotilla.proto.InputBatch;
import io.flotilla.proto.JobStatus;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.BufferedReader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Feeds a job its inputs, one JSON line each, in batches, as fast as the coordinator's flow control
 * lets it: the coordinator stops reading while the job has its limit of inputs in flight, and this
 * sender then waits instead of buffering. A batch goes out when it is full, or when no more input is
 * ready (so that an interactive producer sees results without closing its end).
 *
 * <p>An input line that cannot be read, or that the coordinator refuses, stops the sending: the job's
 * inputs are then closed where they are, so that the results of every input before it still arrive.
 */
final class InputSender implements ClientResponseObserver<InputBatch, JobStatus> {
  private static final int BATCH_ITEMS = 256;
  private static final int BATCH_BYTES = 512 * 1024;

  /** Why sending stopped early: the exit code and the message already printed. */
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
      JobConnection connection, String jobId, long skip, BufferedReader input, PayloadText text)
      throws IOException, InterruptedException {
    InputSender sender = new InputSender();
    connection.async().sendInputs(sender);
    long index = skip;
    long lineNo = 0;
    long inputs = 0;
    List<ByteString> batch = new ArrayList<>();
    long bytes = 0;
    String line;
    String refusal = null;
    while ((line = input.readLine()) != null) {
      lineNo++;
      if (line.isBlank() || ++inputs <= skip) {
        continue;
      }
      try {
        ByteString item = ByteString.copyFrom(text.input(line));
        batch.add(item);
        bytes += item.size();
      } catch (IllegalArgumentException e) {
        refusal = "input " + (inputs - 1) + " (line " + lineNo + "): " + e.getMessage();
        break;
      }
      if (batch.size() >= BATCH_ITEMS || bytes >= BATCH_BYTES || !input.ready()) {
        if (!sender.write(jobId, index, batch, false)) {
          break;
        }
        index += batch.size();
        batch.clear();
        bytes = 0;
      }
    }
    if (refusal != null) {
      // What was sent before the line stays; the stream itself is abandoned.
      sender.stream.cancel("an input line could not be read", null);
      System.err.println("flotilla submit: " + refusal + "; nothing from it on was sent, and the job's inputs end before it");
      closeInputs(connection, jobId);
      return new Stop(JobExit.USAGE);
    }
    if (!sender.reply.isDone()) {
      sender.write(jobId, index, batch, true);
    }
    if (!sender.reply.isDone()) {
      sender.stream.onCompleted();
    }
    try {
      sender.reply.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof StatusRuntimeException s) {
        int code = JobExit.report("submit", connection.address(), s);
        closeInputs(connection, jobId);
        return new Stop(code);
      }
      throw new IOException(e.getCause());
    }
    return null;
  }

  /** Ends a job's inputs where they are, so that it finishes with what it has. */
  private static void closeInputs(JobConnection connection, String jobId) throws InterruptedException {
    long received;
    try {
      received =
          connection.call().getJob(io.flotilla.proto.JobRequest.newBuilder().setJobId(jobId).build()).getInputsReceived();
    } catch (StatusRuntimeException e) {
      return;
    }
    InputSender closer = new InputSender();
    connection.async().sendInputs(closer);
    closer.write(jobId, received, List.of(), true);
    closer.stream.onCompleted();
    try {
      closer.reply.get();
    } catch (ExecutionException e) {
      // Already closed, or cancelled: either way it finishes with what it has.
    }
  }

  /** @return false if the stream failed; its reply says why */
  private boolean write(String jobId, long first, List<ByteString> items, boolean end) throws InterruptedException {
    synchronized (ready) {
      while (!stream.isReady() && !reply.isDone()) {
        ready.wait();
      }
    }
    if (reply.isDone()) {
      return false;
    }
    stream.onNext(
        InputBatch.newBuilder().setJobId(jobId).setFirstIndex(first).addAllItems(items).setEndOfInputs(end).build());
    return true;
  }
}
