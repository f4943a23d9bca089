package io.flotilla.examples;

import com.google.protobuf.ByteString;
import io.flotilla.proto.FunctionInfo;
import io.flotilla.proto.JobServiceGrpc;
import io.flotilla.proto.JobStatus;
import io.flotilla.proto.ListFunctionsRequest;
import io.flotilla.proto.Result;
import io.flotilla.proto.ResultBatch;
import io.flotilla.proto.ResultsRequest;
import io.flotilla.proto.SubmitRequest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A job through the job service's gRPC stubs, as any language would submit one: a function
 * registered on the workers ({@code isprime}, JSON in and out) applied to a few inputs, and its
 * results read back. The job belongs to the coordinator, not to this connection: another program
 * could read its results.
 *
 * <p>The argument is the coordinator's address; {@code FLOTILLA_TOKEN} is this client's token, if
 * the coordinator was given a tokens file.
 */
public final class JobFromJava {
  private JobFromJava() {}

  public static void main(String[] args) throws InterruptedException {
    String address = args.length > 0 ? args[0] : "127.0.0.1:7600";
    ManagedChannel channel = ManagedChannelBuilder.forTarget(address).usePlaintext().build();
    try {
      JobServiceGrpc.JobServiceBlockingStub jobs = JobServiceGrpc.newBlockingStub(channel);
      String token = System.getenv("FLOTILLA_TOKEN");
      if (token != null) {
        Metadata headers = new Metadata();
        headers.put(
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
        jobs = jobs.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
      }

      List<FunctionInfo> offered =
          deadline(jobs)
              .listFunctions(ListFunctionsRequest.getDefaultInstance())
              .getFunctionsList();
      for (FunctionInfo f : offered) {
        System.out.println("offered: " + f.getSignature());
      }

      List<Integer> numbers = List.of(2, 15, 17, 91, 97);
      SubmitRequest.Builder submit =
          SubmitRequest.newBuilder().setFunction("isprime").setEndOfInputs(true);
      for (int n : numbers) {
        submit.addInputs(
            ByteString.copyFrom(Integer.toString(n), StandardCharsets.UTF_8)); // one JSON value
      }
      JobStatus job = deadline(jobs).submit(submit.build());
      System.out.println("job " + job.getJobId());

      // In input order; the stream ends once every input has its result.
      Iterator<ResultBatch> batches =
          deadline(jobs)
              .results(
                  ResultsRequest.newBuilder().setJobId(job.getJobId()).setOrdered(true).build());
      while (batches.hasNext()) {
        for (Result r : batches.next().getResultsList()) {
          int n = numbers.get((int) r.getIndex());
          if (r.hasError()) {
            System.out.println(
                n + " failed: " + r.getError().getType() + ": " + r.getError().getMessage());
          } else {
            System.out.println(n + " prime: " + r.getValue().toString(StandardCharsets.UTF_8));
          }
        }
      }
    } finally {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  /**
   * Every call gets a deadline; a long job's results would be read on from the last position
   * instead.
   */
  private static JobServiceGrpc.JobServiceBlockingStub deadline(
      JobServiceGrpc.JobServiceBlockingStub jobs) {
    return jobs.withDeadlineAfter(30, TimeUnit.SECONDS);
  }
}
