package io.flotilla.internal.jobs;

import io.flotilla.internal.functions.FunctionRegistry;
import io.flotilla.internal.functions.InputRejected;
import io.flotilla.internal.functions.NamedCall;
import io.flotilla.internal.functions.NamedFunction;
import io.flotilla.internal.scheduler.ChunkScheduler;
import io.flotilla.internal.scheduler.ProcessBackend;
import io.flotilla.proto.InputBatch;
import io.flotilla.proto.JobRequest;
import io.flotilla.proto.JobServiceGrpc;
import io.flotilla.proto.JobStatus;
import io.flotilla.proto.ListFunctionsReply;
import io.flotilla.proto.ListFunctionsRequest;
import io.flotilla.proto.ListJobsReply;
import io.flotilla.proto.ListJobsRequest;
import io.flotilla.proto.ListWorkersReply;
import io.flotilla.proto.ListWorkersRequest;
import io.flotilla.proto.ResultBatch;
import io.flotilla.proto.ResultsRequest;
import io.flotilla.proto.SubmitRequest;
import io.flotilla.proto.WorkerInfo;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The job service of a coordinator server: jobs that any client, in any language, submits by
 * function name, feeds, reads, and finds again after a broken connection. See {@code jobs.proto}
 * for the wire contract and {@link ServiceJob} for what a job guarantees.
 *
 * <p>Every input is checked against its function before it is queued, so that a bad one is refused
 * to its sender with INVALID_ARGUMENT and the index it had, and never reaches a worker. Jobs whose
 * function comes from shipped jars are not checked here: the coordinator never loads a client's
 * code.
 *
 * <p>Threading: handlers run on the executor the server gives this service (never a network
 * thread), and never block.
 */
public final class JobService extends JobServiceGrpc.JobServiceImplBase {
  private static final Logger log = LoggerFactory.getLogger(JobService.class);

  private final ProcessBackend backend;
  private final IntSupplier parallelism;
  private final ChunkScheduler scheduler;
  private final FunctionRegistry functions;
  private final java.util.function.Predicate<String> stored;
  private final JobLimits limits;
  private final JobTable jobs;
  private final Executor executor;

  /**
   * @param backend where chunks run: the coordinator's scheduler
   * @param parallelism worker threads in the cluster now, for sizing chunks
   * @param scheduler for the list of workers, and whether work waits for one
   * @param functions the functions the workers have (the coordinator carries the same class path)
   * @param stored whether the code store holds a bundle, by digest
   * @param limits per-client limits
   * @param executor where result streams send from
   */
  public JobService(
      ProcessBackend backend,
      IntSupplier parallelism,
      ChunkScheduler scheduler,
      FunctionRegistry functions,
      java.util.function.Predicate<String> stored,
      JobLimits limits,
      Executor executor) {
    this.backend = backend;
    this.parallelism = parallelism;
    this.scheduler = scheduler;
    this.functions = functions;
    this.stored = stored;
    this.limits = limits;
    this.jobs = new JobTable(limits);
    this.executor = executor;
  }

  /**
   * @return this service, with requests checked for size and form before the handlers see them
   */
  public ServerServiceDefinition checkedService() {
    return StrictRequests.of(bindService(), limits.maxMessageBytes());
  }

  /** Closes abandoned inputs and forgets expired jobs; call it now and then. Never throws. */
  public void sweep() {
    try {
      jobs.sweep();
    } catch (RuntimeException e) {
      // A periodic task that throws is never run again: this one must go on.
      log.warn("sweeping the jobs failed; trying again at the next sweep", e);
    }
  }

  private static String client() {
    return ClientTokens.CLIENT.get();
  }

  @Override
  public void listFunctions(
      ListFunctionsRequest request, StreamObserver<ListFunctionsReply> reply) {
    ListFunctionsReply.Builder out = ListFunctionsReply.newBuilder();
    functions.all().forEach(f -> out.addFunctions(f.info()));
    reply.onNext(out.build());
    reply.onCompleted();
  }

  @Override
  public void submit(SubmitRequest request, StreamObserver<JobStatus> reply) {
    try {
      String owner = client();
      // A resubmission returns the job made first, whatever else it says.
      ServiceJob earlier = jobs.byKey(owner, request.getIdempotencyKey());
      if (earlier != null) {
        reply.onNext(earlier.status().toBuilder().setExisting(true).build());
        reply.onCompleted();
        return;
      }
      String name = request.getFunction();
      NamedFunction checker = null;
      if (request.getBundlesCount() == 0) {
        checker = functions.find(name).orElseThrow(() -> unknownFunction(name));
      } else {
        for (String digest : request.getBundlesList()) {
          if (!io.flotilla.internal.code.Bundle.isName(digest)) {
            throw Status.INVALID_ARGUMENT
                .withDescription(
                    "bundle '" + digest + "' is not a SHA-256 digest in lower-case hex")
                .asException();
          }
          if (!stored.test(digest)) {
            throw Status.FAILED_PRECONDITION
                .withDescription(
                    "bundle "
                        + digest
                        + " is not in the code store: upload it first (CodeStore.Upload)")
                .asException();
          }
        }
      }
      Checked inputs = checked(checker, 0, request.getInputsList());
      if (inputs.refusal() != null) {
        // No job yet, so nothing is taken: the submission can simply be made again, corrected.
        throw Status.INVALID_ARGUMENT
            .withDescription(inputs.refusal() + "; no job was made")
            .asException();
      }
      NamedFunction check = checker;
      JobTable.Created created =
          jobs.create(
              owner,
              request.getIdempotencyKey(),
              id ->
                  new ServiceJob(
                      id,
                      owner,
                      name,
                      request.getIdempotencyKey(),
                      check,
                      backend,
                      backend.openJob(
                          new NamedCall(name),
                          request.getBundlesList(),
                          owner,
                          new io.flotilla.internal.map.JobLabel(name, "service", -1, id)),
                      parallelism,
                      limits));
      ServiceJob job = created.job();
      if (created.existing()) {
        reply.onNext(job.status().toBuilder().setExisting(true).build());
        reply.onCompleted();
        return;
      }
      log.info("job {} of '{}': {} submitted", job.id, owner, name);
      if (!inputs.items().isEmpty() || request.getEndOfInputs()) {
        job.accept(0, inputs.items(), request.getEndOfInputs());
      }
      reply.onNext(job.status());
      reply.onCompleted();
    } catch (StatusException e) {
      reply.onError(e);
    }
  }

  private StatusException unknownFunction(String name) {
    List<String> known = new ArrayList<>();
    functions.all().forEach(f -> known.add(f.name()));
    return Status.NOT_FOUND
        .withDescription(
            (name.isEmpty() ? "no function named" : "no function named '" + name + "'")
                + "; this cluster has: "
                + String.join(", ", known))
        .asException();
  }

  /**
   * The inputs of a batch as the job takes them, each read as its function would read it.
   *
   * @param items those before the first the function cannot take (all, if none)
   * @param refusal what is wrong with that input, naming its index; null if none
   */
  private record Checked(List<byte[]> items, String refusal) {}

  private static Checked checked(
      NamedFunction checker, long first, List<com.google.protobuf.ByteString> items) {
    List<byte[]> out = new ArrayList<>(items.size());
    for (int i = 0; i < items.size(); i++) {
      byte[] bytes = items.get(i).toByteArray();
      if (checker != null) {
        try {
          checker.decode(bytes);
        } catch (InputRejected e) {
          return new Checked(
              out,
              "input "
                  + (first + i)
                  + " is "
                  + e.getMessage()
                  + "; the function is "
                  + checker.signature());
        }
      }
      out.add(bytes);
    }
    return new Checked(out, null);
  }

  @Override
  public StreamObserver<InputBatch> sendInputs(StreamObserver<JobStatus> reply) {
    ServerCallStreamObserver<JobStatus> call = (ServerCallStreamObserver<JobStatus>) reply;
    call.disableAutoRequest();
    call.request(1);
    String owner = client();
    return new StreamObserver<>() {
      private ServiceJob job;
      private boolean failed;

      @Override
      public void onNext(InputBatch batch) {
        if (failed) {
          return;
        }
        try {
          if (job == null) {
            job = jobs.get(owner, batch.getJobId());
            job.inputStream(+1);
          } else if (!batch.getJobId().isEmpty() && !batch.getJobId().equals(job.id)) {
            throw Status.INVALID_ARGUMENT
                .withDescription(
                    "this stream sends inputs of job " + job.id + ", not " + batch.getJobId())
                .asException();
          }
          Checked inputs = checked(job.checker, batch.getFirstIndex(), batch.getItemsList());
          // The inputs before a bad one are taken; if the batch ends the inputs, they end before
          // it, so
          // that the job finishes rather than waiting for inputs its client no longer means to
          // send.
          if (!inputs.items().isEmpty() || batch.getEndOfInputs() || inputs.refusal() == null) {
            job.accept(batch.getFirstIndex(), inputs.items(), batch.getEndOfInputs());
          }
          if (inputs.refusal() != null) {
            long next = batch.getFirstIndex() + inputs.items().size();
            throw Status.INVALID_ARGUMENT
                .withDescription(
                    inputs.refusal()
                        + (batch.getEndOfInputs()
                            ? ". The inputs before it were taken and, as the batch ended the inputs, the job's"
                                + " inputs end at "
                                + next
                                + ": it takes no more"
                            : ". The inputs before it were taken: the next batch starts at index "
                                + next))
                .asException();
          }
          job.whenRoom(() -> call.request(1));
        } catch (StatusException e) {
          fail(e);
        }
      }

      private void fail(StatusException e) {
        failed = true;
        if (job != null) {
          job.inputStream(-1);
        }
        reply.onError(e);
      }

      @Override
      public void onError(Throwable t) {
        // The client went, or cancelled: what it sent stays, and it may resume where the job's
        // inputs end.
        if (job != null && !failed) {
          job.inputStream(-1);
          log.info(
              "job {}: input stream broke after {} inputs ({})",
              job.id,
              job.status().getInputsReceived(),
              Status.fromThrowable(t).getCode());
        }
      }

      @Override
      public void onCompleted() {
        if (failed) {
          return;
        }
        if (job == null) {
          reply.onError(
              Status.INVALID_ARGUMENT
                  .withDescription("the input stream sent no batch naming a job")
                  .asException());
          return;
        }
        job.inputStream(-1);
        reply.onNext(job.status());
        reply.onCompleted();
      }
    };
  }

  @Override
  public void results(ResultsRequest request, StreamObserver<ResultBatch> reply) {
    try {
      ServiceJob job = jobs.get(client(), request.getJobId());
      if (request.getFrom() < 0) {
        throw Status.INVALID_ARGUMENT
            .withDescription("'from' must not be negative: " + request.getFrom())
            .asException();
      }
      new ResultStream(
              job,
              request.getOrdered(),
              request.getFrom(),
              (ServerCallStreamObserver<ResultBatch>) reply,
              executor)
          .start();
    } catch (StatusException e) {
      reply.onError(e);
    }
  }

  @Override
  public void getJob(JobRequest request, StreamObserver<JobStatus> reply) {
    try {
      reply.onNext(waited(jobs.get(client(), request.getJobId()).status(), scheduler.starvation()));
      reply.onCompleted();
    } catch (StatusException e) {
      reply.onError(e);
    }
  }

  /**
   * A job's status with how long its pending inputs have waited for a worker: since the wait for
   * workers began, or since the job was made if that was later. The wait is the cluster's, not the
   * job's, so a pending input already on a worker that is going counts as waiting too.
   *
   * @param waiting the wait for workers under way, or null
   */
  private static JobStatus waited(JobStatus status, ChunkScheduler.Starvation waiting) {
    if (waiting == null || status.getPending() == 0) {
      return status;
    }
    long sinceMade = System.currentTimeMillis() - status.getCreatedUnixMs();
    long ms = Math.max(0, Math.min(waiting.waited().toMillis(), sinceMade));
    return status.toBuilder().setWaitingForWorkersMs(ms).build();
  }

  @Override
  public void cancel(JobRequest request, StreamObserver<JobStatus> reply) {
    try {
      ServiceJob job = jobs.get(client(), request.getJobId());
      if (job.cancel()) {
        log.info("job {} of '{}' cancelled", job.id, job.owner);
      }
      reply.onNext(job.status());
      reply.onCompleted();
    } catch (StatusException e) {
      reply.onError(e);
    }
  }

  @Override
  public void listJobs(ListJobsRequest request, StreamObserver<ListJobsReply> reply) {
    ListJobsReply.Builder out = ListJobsReply.newBuilder();
    ChunkScheduler.Starvation waiting = scheduler.starvation();
    jobs.of(client()).forEach(j -> out.addJobs(waited(j.status(), waiting)));
    reply.onNext(out.build());
    reply.onCompleted();
  }

  @Override
  public void listWorkers(ListWorkersRequest request, StreamObserver<ListWorkersReply> reply) {
    ListWorkersReply.Builder out = ListWorkersReply.newBuilder();
    for (ChunkScheduler.WorkerView w : scheduler.workers()) {
      out.addWorkers(
          WorkerInfo.newBuilder()
              .setId(w.id())
              .setHost(w.host())
              .setPid(w.pid())
              .setCores(w.cores())
              .setThreads(w.threads())
              .setBusy(w.busy())
              .setTasksDone(w.itemsDone()));
    }
    reply.onNext(out.build());
    reply.onCompleted();
  }

  /**
   * @param state running, completed or cancelled
   * @return how many of this service's jobs are in that state now, kept ones included
   */
  public int jobsIn(io.flotilla.proto.JobState state) {
    return jobs.countByState().getOrDefault(state, 0);
  }
}
