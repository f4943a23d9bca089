package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.flotilla.internal.jobs.ClientTokens;
import io.flotilla.internal.jobs.JobLimits;
import io.flotilla.proto.JobRequest;
import io.flotilla.proto.JobServiceGrpc;
import io.flotilla.proto.JobState;
import io.flotilla.proto.JobStatus;
import io.flotilla.proto.ListJobsRequest;
import io.flotilla.proto.Result;
import io.flotilla.proto.ResultsRequest;
import io.flotilla.proto.SubmitRequest;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Work sent to a coordinator that has no worker: it is said at once, to the log and to the client,
 * and fails with {@link BrokenPoolException} after the coordinator's patience rather than wait
 * unseen; the pool is not broken by it, and runs on the first worker that joins.
 */
@FlotillaTest
class NoWorkersTest {
  private static final String TOKEN = "no-workers-0123456789abcdef";

  @Test
  void aConnectedPoolsTasksFailAfterThePatienceAndRunOnceAWorkerJoins(@TempDir Path dir)
      throws Exception {
    try (CapturedLog log = new CapturedLog();
        RemoteWorkers cluster =
            new RemoteWorkers(dir, Map.of(), JobLimits.DEFAULT, Duration.ofSeconds(2))) {
      ClusterPool pool = cluster.connect();
      CompletableFuture<Integer> first = pool.submit(() -> 1);
      await("the client's warning")
          .atMost(TestTime.LONG)
          .until(
              () ->
                  !log.warnings(
                          "io.flotilla.internal.remote.ClientLinkBackend",
                          "no workers: 1 chunks waiting at the coordinator " + cluster.address(),
                          "they fail after 2 s unless a worker joins")
                      .isEmpty());
      assertThatThrownBy(() -> first.get(TestTime.LONG.toMillis(), TimeUnit.MILLISECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(BrokenPoolException.class)
          .hasMessageContaining("no workers for 2 s: 1 chunks were waiting")
          .hasMessageContaining("--no-workers-timeout");

      // Not broken: the next task is taken, and waits as long again; close() waits for it, and
      // returns once it has failed.
      CompletableFuture<Integer> second = pool.submit(() -> 2);
      pool.close();
      assertThatThrownBy(second::get)
          .cause()
          .isInstanceOf(BrokenPoolException.class)
          .hasMessageContaining("no workers for 2 s");

      cluster.addWorker();
      try (ClusterPool again = cluster.connect()) {
        await("the worker joined").atMost(TestTime.LONG).until(() -> again.workers() == 1);
        assertThat(again.submit(() -> 3).get(TestTime.LONG.toMillis(), TimeUnit.MILLISECONDS))
            .isEqualTo(3);
      }
    }
  }

  @Test
  void theJobServiceSaysHowLongInputsHaveWaitedForWorkersAndFailsThemAfterThePatience(
      @TempDir Path dir) throws Exception {
    try (RemoteWorkers cluster =
        new RemoteWorkers(dir, Map.of(TOKEN, "tester"), JobLimits.DEFAULT, Duration.ofSeconds(5))) {
      ManagedChannel channel =
          NettyChannelBuilder.forTarget(cluster.address()).usePlaintext().build();
      try {
        Metadata auth = new Metadata();
        auth.put(ClientTokens.AUTHORIZATION, "Bearer " + TOKEN);
        JobServiceGrpc.JobServiceBlockingStub jobs =
            JobServiceGrpc.newBlockingStub(channel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(auth));
        String id =
            jobs.withDeadlineAfter(60, TimeUnit.SECONDS)
                .submit(
                    SubmitRequest.newBuilder()
                        .setFunction("square")
                        .addInputs(ByteString.copyFromUtf8("3"))
                        .addInputs(ByteString.copyFromUtf8("4"))
                        .setEndOfInputs(true)
                        .build())
                .getJobId();
        JobRequest job = JobRequest.newBuilder().setJobId(id).build();
        await("GetJob reporting the wait")
            .atMost(TestTime.LONG)
            .until(
                () ->
                    jobs.withDeadlineAfter(60, TimeUnit.SECONDS)
                            .getJob(job)
                            .getWaitingForWorkersMs()
                        > 0);
        assertThat(
                jobs.withDeadlineAfter(60, TimeUnit.SECONDS)
                    .listJobs(ListJobsRequest.getDefaultInstance())
                    .getJobs(0)
                    .getWaitingForWorkersMs())
            .as("ListJobs reports it too, until the inputs fail")
            .isPositive();

        List<Result> results = new ArrayList<>();
        jobs.withDeadlineAfter(60, TimeUnit.SECONDS)
            .results(ResultsRequest.newBuilder().setJobId(id).setOrdered(true).build())
            .forEachRemaining(batch -> results.addAll(batch.getResultsList()));
        assertThat(results)
            .hasSize(2)
            .allSatisfy(
                r -> {
                  assertThat(r.getError().getType()).isEqualTo(BrokenPoolException.class.getName());
                  assertThat(r.getError().getMessage()).startsWith("no workers for 5 s: ");
                });
        JobStatus done = jobs.withDeadlineAfter(60, TimeUnit.SECONDS).getJob(job);
        assertThat(done.getState()).isEqualTo(JobState.COMPLETED);
        assertThat(done.getFailed()).isEqualTo(2);
        assertThat(done.getWaitingForWorkersMs()).isZero();
      } finally {
        channel.shutdownNow();
      }
    }
  }
}
