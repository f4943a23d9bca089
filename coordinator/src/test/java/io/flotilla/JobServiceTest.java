package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.flotilla.internal.jobs.ClientTokens;
import io.flotilla.internal.jobs.JobLimits;
import io.flotilla.proto.FunctionInfo;
import io.flotilla.proto.InputBatch;
import io.flotilla.proto.JobRequest;
import io.flotilla.proto.JobServiceGrpc;
import io.flotilla.proto.JobState;
import io.flotilla.proto.JobStatus;
import io.flotilla.proto.ListFunctionsRequest;
import io.flotilla.proto.ListJobsRequest;
import io.flotilla.proto.ListWorkersRequest;
import io.flotilla.proto.Result;
import io.flotilla.proto.ResultBatch;
import io.flotilla.proto.ResultsRequest;
import io.flotilla.proto.SubmitRequest;
import io.flotilla.proto.WorkerInfo;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job service over real sockets: a coordinator server with two client tokens, and two worker
 * JVMs that joined it and run the {@link TestFunctions} by name.
 */
class JobServiceTest {
  private static final String ALICE = "alice-0123456789abcdef";
  private static final String BOB = "bob-0123456789abcdef";
  private static final String CAROL = "carol-0123456789abcdef";
  private static final int MAX_MESSAGE = 64 * 1024;
  private static final int MAX_IN_FLIGHT = 500;
  private static final int MAX_JOBS = 20;
  private static final long MAX_KEPT = 1 << 20;
  private static final String DAVE = "dave-0123456789abcdef";
  private static final String ERIN = "erin-0123456789abcdef";

  private static RemoteWorkers cluster;
  private static ManagedChannel channel;

  @BeforeAll
  static void start() throws Exception {
    cluster =
        new RemoteWorkers(
            Files.createTempDirectory("flotilla-jobs"),
            Map.of(ALICE, "alice", BOB, "bob", CAROL, "carol", DAVE, "dave", ERIN, "erin"),
            new JobLimits(MAX_MESSAGE, MAX_IN_FLIGHT, MAX_JOBS, MAX_KEPT, Duration.ofMinutes(10)));
    cluster.addWorker();
    cluster.addWorker();
    channel = NettyChannelBuilder.forTarget(cluster.address()).usePlaintext().build();
    await("two workers")
        .atMost(TestTime.LONG)
        .until(
            () ->
                jobs(ALICE).listWorkers(ListWorkersRequest.getDefaultInstance()).getWorkersCount()
                    == 2);
  }

  @AfterAll
  static void stop() {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  /**
   * A blocking stub with the token, and a deadline on the call, as every client call should have.
   */
  private static JobServiceGrpc.JobServiceBlockingStub jobs(String token) {
    return stub(token).withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  private static JobServiceGrpc.JobServiceBlockingStub stub(String token) {
    Metadata auth = new Metadata();
    if (token != null) {
      auth.put(ClientTokens.AUTHORIZATION, "Bearer " + token);
    }
    return JobServiceGrpc.newBlockingStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(auth));
  }

  private static JobServiceGrpc.JobServiceStub async(String token) {
    Metadata auth = new Metadata();
    auth.put(ClientTokens.AUTHORIZATION, "Bearer " + token);
    return JobServiceGrpc.newStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(auth));
  }

  private static List<ByteString> json(Object... values) {
    return Arrays.stream(values).map(v -> ByteString.copyFromUtf8(String.valueOf(v))).toList();
  }

  private static JobStatus submit(String token, String fn, List<ByteString> inputs, boolean end) {
    return jobs(token)
        .submit(
            SubmitRequest.newBuilder()
                .setFunction(fn)
                .addAllInputs(inputs)
                .setEndOfInputs(end)
                .build());
  }

  /**
   * @return every result of the job, read to the end of its stream from {@code from}
   */
  private static List<Result> read(String token, String id, boolean ordered, long from) {
    List<Result> out = new ArrayList<>();
    Iterator<ResultBatch> it =
        jobs(token)
            .results(
                ResultsRequest.newBuilder().setJobId(id).setOrdered(ordered).setFrom(from).build());
    it.forEachRemaining(b -> out.addAll(b.getResultsList()));
    return out;
  }

  private static long valueOf(Result r) {
    assertThat(r.hasError()).as("result %s has no error: %s", r.getIndex(), r.getError()).isFalse();
    return Long.parseLong(r.getValue().toStringUtf8());
  }

  private static Status.Code code(Throwable t) {
    return Status.fromThrowable(t).getCode();
  }

  private static String description(Throwable t) {
    return String.valueOf(Status.fromThrowable(t).getDescription());
  }

  /** An input stream of a job, driven by the test. */
  private static final class Inputs implements ClientResponseObserver<InputBatch, JobStatus> {
    final CompletableFuture<JobStatus> reply = new CompletableFuture<>();
    ClientCallStreamObserver<InputBatch> stream;

    static Inputs open(String token) {
      Inputs inputs = new Inputs();
      async(token).withDeadlineAfter(60, TimeUnit.SECONDS).sendInputs(inputs);
      return inputs;
    }

    Inputs send(String id, long first, List<ByteString> items, boolean end) {
      stream.onNext(
          InputBatch.newBuilder()
              .setJobId(id)
              .setFirstIndex(first)
              .addAllItems(items)
              .setEndOfInputs(end)
              .build());
      return this;
    }

    JobStatus close() throws Exception {
      stream.onCompleted();
      return reply.get(60, TimeUnit.SECONDS);
    }

    Throwable failure() {
      return reply.handle((ok, error) -> error).orTimeout(60, TimeUnit.SECONDS).join();
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<InputBatch> requestStream) {
      stream = requestStream;
    }

    @Override
    public void onNext(JobStatus value) {
      reply.complete(value);
    }

    @Override
    public void onError(Throwable t) {
      reply.completeExceptionally(t);
    }

    @Override
    public void onCompleted() {}
  }

  @Test
  void functionsAreListedWithTheirSignatures() {
    List<FunctionInfo> functions =
        jobs(ALICE).listFunctions(ListFunctionsRequest.getDefaultInstance()).getFunctionsList();
    assertThat(functions)
        .extracting(FunctionInfo::getSignature)
        .contains(
            "square(json integer) -> json integer",
            "echo(json any) -> json any",
            "nap(json integer) -> json integer");
  }

  @Test
  void resultsComeInInputOrderOrAsTheyComplete() throws Exception {
    List<ByteString> inputs =
        IntStream.range(0, 1000)
            .mapToObj(i -> ByteString.copyFromUtf8(Integer.toString(i)))
            .toList();
    String id = submit(ALICE, "square", inputs.subList(0, MAX_IN_FLIGHT), false).getJobId();
    Inputs rest =
        Inputs.open(ALICE).send(id, MAX_IN_FLIGHT, inputs.subList(MAX_IN_FLIGHT, 1000), true);

    List<Result> ordered = read(ALICE, id, true, 0);
    assertThat(ordered)
        .extracting(Result::getIndex)
        .containsExactlyElementsOf(IntStream.range(0, 1000).mapToObj(i -> (long) i).toList());
    assertThat(ordered)
        .allSatisfy(r -> assertThat(valueOf(r)).isEqualTo(r.getIndex() * r.getIndex()));
    assertThat(ordered).allSatisfy(r -> assertThat(r.getPosition()).isEqualTo(r.getIndex()));

    List<Result> completed = read(ALICE, id, false, 0);
    assertThat(completed).extracting(Result::getIndex).doesNotHaveDuplicates().hasSize(1000);
    assertThat(completed)
        .extracting(Result::getPosition)
        .containsExactlyElementsOf(IntStream.range(0, 1000).mapToObj(i -> (long) i).toList());
    JobStatus done = jobs(ALICE).getJob(JobRequest.newBuilder().setJobId(id).build());
    assertThat(done.getState()).isEqualTo(JobState.COMPLETED);
    assertThat(done.getSucceeded()).isEqualTo(1000);
    assertThat(rest.close().getInputsReceived()).isEqualTo(1000);
  }

  @Test
  void aFastSenderIsHeldAtTheJobsLimitOfInputsInFlight() throws Exception {
    String id = submit(ALICE, "nap", List.of(), false).getJobId();
    Inputs sender = Inputs.open(ALICE);
    List<ByteString> batch = json(IntStream.range(0, 100).mapToObj(i -> 2).toArray());
    CompletableFuture<Void> sending =
        CompletableFuture.runAsync(
            () -> {
              for (int b = 0; b < 20; b++) {
                sender.send(id, b * 100L, batch, b == 19);
              }
            });
    java.util.concurrent.atomic.AtomicLong mostPending =
        new java.util.concurrent.atomic.AtomicLong();
    JobRequest request = JobRequest.newBuilder().setJobId(id).build();
    await("the job's end")
        .atMost(TestTime.LONG)
        .pollInterval(Duration.ofMillis(20))
        .until(
            () -> {
              JobStatus s = jobs(ALICE).getJob(request);
              mostPending.accumulateAndGet(s.getPending(), Math::max);
              return s.getState() == JobState.COMPLETED;
            });
    sending.get(60, TimeUnit.SECONDS);
    assertThat(sender.close().getInputsReceived()).isEqualTo(2000);
    // The limit, passed by at most the batch that reached it.
    assertThat(mostPending.get()).isPositive().isLessThanOrEqualTo(MAX_IN_FLIGHT + 100);
    assertThat(read(ALICE, id, false, 0)).hasSize(2000);
  }

  @Test
  void aReaderThatGoesAwayMidStreamResumesWhereItStopped() throws Exception {
    for (boolean ordered : new boolean[] {true, false}) {
      String id =
          submit(ALICE, "square", json(IntStream.range(0, 300).boxed().toArray()), true).getJobId();
      List<Result> first = new ArrayList<>();
      CountDownLatch enough = new CountDownLatch(1);
      async(ALICE)
          .withDeadlineAfter(60, TimeUnit.SECONDS)
          .results(
              ResultsRequest.newBuilder().setJobId(id).setOrdered(ordered).build(),
              new ClientResponseObserver<ResultsRequest, ResultBatch>() {
                private ClientCallStreamObserver<ResultsRequest> call;

                @Override
                public void beforeStart(ClientCallStreamObserver<ResultsRequest> requestStream) {
                  call = requestStream;
                }

                @Override
                public void onNext(ResultBatch batch) {
                  if (enough.getCount() > 0) {
                    // The reader handles 100 results and dies with the rest of its batch unread: a
                    // finished job's results can all come in one batch.
                    for (Result r : batch.getResultsList()) {
                      if (first.size() < 100) {
                        first.add(r);
                      }
                    }
                    if (first.size() >= 100) {
                      enough.countDown();
                      // The reader goes away mid-stream, as a killed client would.
                      call.cancel("reader killed", null);
                    }
                  }
                }

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onCompleted() {
                  enough.countDown();
                }
              });
      assertThat(enough.await(60, TimeUnit.SECONDS)).isTrue();
      List<Result> rest = read(ALICE, id, ordered, first.size());
      List<Result> all = new ArrayList<>(first);
      all.addAll(rest);
      assertThat(all)
          .extracting(Result::getPosition)
          .containsExactlyElementsOf(IntStream.range(0, 300).mapToObj(i -> (long) i).toList());
      assertThat(all).extracting(Result::getIndex).doesNotHaveDuplicates().hasSize(300);
      if (ordered) {
        assertThat(rest.get(0).getIndex()).isEqualTo(first.size());
      }
    }
  }

  @Test
  void aFunctionInShippedCodeRunsOnWorkersThatNeverHadIt(@TempDir Path dir) throws Exception {
    // A function library compiled now, in a jar only this test has.
    Path src = dir.resolve("src/shipped/Shout.java");
    Files.createDirectories(src.getParent());
    Files.writeString(
        src,
        """
        package shipped;
        public final class Shout implements io.flotilla.functions.FunctionLibrary {
          @io.flotilla.functions.Registered("shout")
          public static String shout(String s) { return s.toUpperCase() + "!"; }
          @io.flotilla.functions.Registered("square")
          public static String square(long n) { return "shipped " + n; }
        }
        """);
    Path classes = Files.createDirectories(dir.resolve("classes"));
    assertThat(
            javax.tools.ToolProvider.getSystemJavaCompiler()
                .run(
                    null,
                    null,
                    null,
                    "-d",
                    classes.toString(),
                    "-cp",
                    System.getProperty("java.class.path"),
                    src.toString()))
        .isZero();
    Path services = classes.resolve("META-INF/services/io.flotilla.functions.FunctionLibrary");
    Files.createDirectories(services.getParent());
    Files.writeString(services, "shipped.Shout\n");
    Path jar = dir.resolve("shout.jar");
    try (java.util.jar.JarOutputStream out =
            new java.util.jar.JarOutputStream(Files.newOutputStream(jar));
        java.util.stream.Stream<Path> files = Files.walk(classes)) {
      for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
        out.putNextEntry(
            new java.util.jar.JarEntry(classes.relativize(f).toString().replace('\\', '/')));
        Files.copy(f, out);
        out.closeEntry();
      }
    }
    List<io.flotilla.internal.code.Bundle> bundles =
        io.flotilla.internal.code.Bundle.ofClassPath(jar.toString());
    ManagedChannel uploads =
        io.flotilla.internal.link.CoordinatorChannel.builder(
                "127.0.0.1", cluster.server().port(), null, RemoteWorkers.SECRET)
            .build();
    try {
      io.flotilla.internal.remote.RemoteCode.ship(uploads, bundles, Duration.ofSeconds(60));
    } finally {
      uploads.shutdownNow();
    }

    SubmitRequest request =
        SubmitRequest.newBuilder()
            .setFunction("shout")
            .addBundles(bundles.get(0).sha256())
            .addAllInputs(json("\"ahoy\"", "\"flotilla\""))
            .setEndOfInputs(true)
            .build();
    String id = jobs(ALICE).submit(request).getJobId();
    assertThat(read(ALICE, id, true, 0))
        .extracting(r -> r.getValue().toStringUtf8())
        .containsExactly("\"AHOY!\"", "\"FLOTILLA!\"");
    // The job's own code comes first: its 'square' hides the workers' own.
    String shadowed =
        jobs(ALICE)
            .submit(
                request.toBuilder()
                    .setFunction("square")
                    .clearInputs()
                    .addAllInputs(json(3))
                    .build())
            .getJobId();
    assertThat(read(ALICE, shadowed, true, 0))
        .extracting(r -> r.getValue().toStringUtf8())
        .containsExactly("\"shipped 3\"");
    // A bundle the store lacks is refused at once, not item by item.
    assertThatThrownBy(
            () ->
                jobs(ALICE)
                    .submit(request.toBuilder().clearBundles().addBundles("0".repeat(64)).build()))
        .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.FAILED_PRECONDITION))
        .satisfies(e -> assertThat(description(e)).contains("is not in the code store"));
    // Without the bundle, the coordinator does not know the name.
    assertThatThrownBy(() -> jobs(ALICE).submit(request.toBuilder().clearBundles().build()))
        .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.NOT_FOUND));
    assertThatThrownBy(
            () ->
                jobs(ALICE)
                    .submit(
                        request.toBuilder().clearBundles().addBundles("../../etc/passwd").build()))
        .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.INVALID_ARGUMENT))
        .satisfies(e -> assertThat(description(e)).contains("is not a SHA-256 digest"));
  }

  @Test
  void aResubmissionWithTheSameKeyFindsTheSameJob() {
    SubmitRequest request =
        SubmitRequest.newBuilder()
            .setFunction("square")
            .addAllInputs(json(1, 2, 3))
            .setEndOfInputs(true)
            .setIdempotencyKey("nightly-42")
            .build();
    JobStatus first = jobs(ALICE).submit(request);
    JobStatus again =
        jobs(ALICE)
            .submit(request.toBuilder().clearInputs().addAllInputs(json(7, 8, 9, 10)).build());
    assertThat(first.getExisting()).isFalse();
    assertThat(again.getExisting()).isTrue();
    assertThat(again.getJobId()).isEqualTo(first.getJobId());
    assertThat(read(ALICE, first.getJobId(), true, 0))
        .extracting(JobServiceTest::valueOf)
        .containsExactly(1L, 4L, 9L);
    // Keys are per client: another's same key is another job.
    JobStatus bobs = jobs(BOB).submit(request);
    assertThat(bobs.getExisting()).isFalse();
    assertThat(bobs.getJobId()).isNotEqualTo(first.getJobId());
  }

  @Test
  void anItemThatThrowsFailsAloneWithTheWorkersTraceback() {
    String id = submit(ALICE, "fail", json("\"boom\"", "\"bang\""), true).getJobId();
    List<Result> results = read(ALICE, id, true, 0);
    assertThat(results)
        .hasSize(2)
        .allSatisfy(
            r -> {
              assertThat(r.getError().getType()).isEqualTo("java.lang.IllegalStateException");
              assertThat(r.getError().getTraceback()).contains("TestFunctions.fail");
            });
    assertThat(results.get(0).getError().getMessage()).isEqualTo("boom");
    JobStatus status = jobs(ALICE).getJob(JobRequest.newBuilder().setJobId(id).build());
    assertThat(status.getFailed()).isEqualTo(2);
    assertThat(status.getState()).isEqualTo(JobState.COMPLETED);
  }

  @Test
  void eachMalformedRequestGetsAPreciseStatusWhileAHealthyJobCarriesOn() throws Exception {
    String healthy =
        submit(BOB, "nap", json(IntStream.range(0, 60).mapToObj(i -> 20).toArray()), true)
            .getJobId();

    // Bytes that are no SubmitRequest at all.
    Metadata auth = new Metadata();
    auth.put(ClientTokens.AUTHORIZATION, "Bearer " + ALICE);
    MethodDescriptor<byte[], byte[]> raw =
        JobServiceGrpc.getSubmitMethod().toBuilder(RawBytes.INSTANCE, RawBytes.INSTANCE).build();
    assertThatThrownBy(
            () ->
                ClientCalls.blockingUnaryCall(
                    io.grpc.ClientInterceptors.intercept(
                        channel, MetadataUtils.newAttachHeadersInterceptor(auth)),
                    raw,
                    CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS),
                    new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01, 0x02}))
        .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.INVALID_ARGUMENT))
        .satisfies(
            e ->
                assertThat(description(e))
                    .contains("malformed message: not a valid Submit's request"));

    // An unknown function.
    assertThatThrownBy(() -> submit(ALICE, "nope", json(1), true))
        .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.NOT_FOUND))
        .satisfies(e -> assertThat(description(e)).contains("no function named 'nope'", "square"));

    // The wrong type, and garbage payload bytes, in a submission: no job is made.
    assertThatThrownBy(() -> submit(ALICE, "square", json(1, "\"x\""), true))
        .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.INVALID_ARGUMENT))
        .satisfies(
            e ->
                assertThat(description(e))
                    .contains("input 1 is not JSON of type integer", "no job was made"));
    assertThatThrownBy(
            () ->
                submit(
                    ALICE,
                    "square",
                    List.of(ByteString.copyFrom(new byte[] {(byte) 0xff, (byte) 0xfe})),
                    true))
        .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.INVALID_ARGUMENT))
        .satisfies(
            e ->
                assertThat(description(e))
                    .contains("input 0 is not UTF-8 JSON: byte 0xFF at offset 0"));

    // Bytes that are no message of a Protobuf function's type; a message that is, runs.
    assertThatThrownBy(
            () ->
                submit(
                    ALICE,
                    "letters",
                    List.of(
                        ByteString.copyFrom(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff})),
                    true))
        .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.INVALID_ARGUMENT))
        .satisfies(
            e ->
                assertThat(description(e))
                    .contains("input 0 is not a serialized flotilla.demo.v1.Text"));
    String letters =
        submit(
                ALICE,
                "letters",
                List.of(
                    io.flotilla.demo.proto.Text.newBuilder()
                        .setText("flotilla")
                        .build()
                        .toByteString()),
                true)
            .getJobId();
    assertThat(
            io.flotilla.demo.proto.WordCount.parseFrom(
                    read(ALICE, letters, true, 0).get(0).getValue())
                .getCount())
        .isEqualTo(8);

    // The wrong type in a stream: the inputs before it are taken and run; the job resumes after it.
    String id = submit(ALICE, "square", List.of(), false).getJobId();
    Throwable wrong = Inputs.open(ALICE).send(id, 0, json(1, 2, "[3]", 4), false).failure();
    assertThat(code(wrong)).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(description(wrong))
        .contains("input 2 is not JSON of type integer", "the next batch starts at index 2");
    assertThat(jobs(ALICE).getJob(JobRequest.newBuilder().setJobId(id).build()).getInputsReceived())
        .isEqualTo(2);

    // A batch that does not start where the job's inputs end.
    Throwable misplaced = Inputs.open(ALICE).send(id, 7, json(9), false).failure();
    assertThat(code(misplaced)).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(description(misplaced)).contains("next batch starts at index 2, not 7");

    // A truncated stream: the client goes without ending its inputs; what it sent stays, and it
    // resumes.
    Inputs cut = Inputs.open(ALICE).send(id, 2, json(3), false);
    await("input 2 taken")
        .atMost(TestTime.LONG)
        .until(
            () ->
                jobs(ALICE).getJob(JobRequest.newBuilder().setJobId(id).build()).getInputsReceived()
                    == 3);
    cut.stream.cancel("the client went away", null);
    assertThat(code(cut.failure())).isEqualTo(Status.Code.CANCELLED);
    JobStatus open = jobs(ALICE).getJob(JobRequest.newBuilder().setJobId(id).build());
    assertThat(open.getState()).isEqualTo(JobState.RUNNING);
    assertThat(open.getInputsClosed()).isFalse();
    assertThat(Inputs.open(ALICE).send(id, 3, json(4), true).close().getInputsReceived())
        .isEqualTo(4);
    assertThat(read(ALICE, id, true, 0))
        .extracting(JobServiceTest::valueOf)
        .containsExactly(1L, 4L, 9L, 16L);

    // An oversized message.
    byte[] big = new byte[MAX_MESSAGE + 1];
    Arrays.fill(big, (byte) '1');
    assertThatThrownBy(() -> submit(ALICE, "square", List.of(ByteString.copyFrom(big)), true))
        .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.RESOURCE_EXHAUSTED))
        .satisfies(
            e ->
                assertThat(description(e))
                    .contains("over the job service's limit of " + MAX_MESSAGE + " bytes"));

    // Compressed, an oversized message says nothing of its size until it is read: it is counted as
    // read.
    assertThatThrownBy(
            () ->
                stub(ALICE)
                    .withCompression("gzip")
                    .withDeadlineAfter(60, TimeUnit.SECONDS)
                    .submit(
                        SubmitRequest.newBuilder()
                            .setFunction("square")
                            .addInputs(ByteString.copyFrom(big))
                            .build()))
        .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.RESOURCE_EXHAUSTED))
        .satisfies(
            e ->
                assertThat(description(e))
                    .contains(
                        "more than " + MAX_MESSAGE + " bytes is over the job service's limit"));

    // Meanwhile the healthy job lost nothing.
    List<Result> results = read(BOB, healthy, true, 0);
    assertThat(results).hasSize(60).allSatisfy(r -> assertThat(valueOf(r)).isEqualTo(20));
  }

  @Test
  void jsonInputsAreUtf8OnlyAndARefusalNamesTheInputAndItsBadByte() throws Exception {
    // UTF-8 of any script is taken, with or without its byte-order mark.
    String horse = "\"žluťoučký kůň 🐎\"";
    byte[] bom = {(byte) 0xef, (byte) 0xbb, (byte) 0xbf};
    byte[] horseWithBom =
        ByteString.copyFrom(bom).concat(ByteString.copyFromUtf8(horse)).toByteArray();
    String echoed =
        submit(
                ALICE,
                "echo",
                List.of(ByteString.copyFromUtf8(horse), ByteString.copyFrom(horseWithBom)),
                true)
            .getJobId();
    // Jackson writes the horse as an escaped surrogate pair: the same JSON string.
    com.fasterxml.jackson.databind.ObjectMapper mapper =
        new com.fasterxml.jackson.databind.ObjectMapper();
    assertThat(read(ALICE, echoed, true, 0))
        .extracting(r -> mapper.readTree(r.getValue().toByteArray()).textValue())
        .containsExactly("žluťoučký kůň 🐎", "žluťoučký kůň 🐎");

    // UTF-16 and UTF-32, with and without a byte-order mark, and Latin-1: each names its first bad
    // byte.
    record Case(String charset, String text, String bad) {}
    for (Case c :
        List.of(
            new Case("UTF-16", "12", "byte 0xFE at offset 0"), // big-endian, with its mark
            new Case("UTF-16LE", "\uFEFF12", "byte 0xFF at offset 0"),
            new Case("UTF-16BE", "12", "byte 0x00 at offset 0"),
            new Case("UTF-16LE", "12", "byte 0x00 at offset 1"),
            new Case("UTF-32BE", "\uFEFF12", "byte 0x00 at offset 0"),
            new Case("UTF-32LE", "\uFEFF12", "byte 0xFF at offset 0"),
            new Case("UTF-32BE", "12", "byte 0x00 at offset 0"),
            new Case("UTF-32LE", "12", "byte 0x00 at offset 1"),
            new Case("ISO-8859-1", "[1, \"é\"]", "byte 0xE9 at offset 5"))) {
      ByteString bytes =
          ByteString.copyFrom(c.text(), java.nio.charset.Charset.forName(c.charset()));
      assertThatThrownBy(
              () -> submit(ALICE, "echo", List.of(ByteString.copyFromUtf8("1"), bytes), true))
          .as("%s %s", c.charset(), c.text())
          .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.INVALID_ARGUMENT))
          .satisfies(
              e ->
                  assertThat(description(e))
                      .contains("input 1 is not UTF-8 JSON: " + c.bad(), "no job was made"));
    }

    // In a stream, the index is the input's in the job.
    String id = submit(ALICE, "square", json(1, 2), false).getJobId();
    Throwable refused =
        Inputs.open(ALICE)
            .send(
                id,
                2,
                List.of(
                    ByteString.copyFromUtf8("3"),
                    ByteString.copyFrom("4", StandardCharsets.UTF_16)),
                false)
            .failure();
    assertThat(code(refused)).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(description(refused))
        .contains(
            "input 3 is not UTF-8 JSON: byte 0xFE at offset 0", "the next batch starts at index 3");
    jobs(ALICE).cancel(JobRequest.newBuilder().setJobId(id).build());
  }

  @Test
  void aBadInputInTheBatchThatEndsTheInputsEndsThemBeforeItAndTheJobFinishes() throws Exception {
    // Erin runs her limit of jobs; the last ends its inputs with a batch that holds a bad one.
    List<String> open = new ArrayList<>();
    for (int i = 0; i < MAX_JOBS - 1; i++) {
      open.add(submit(ERIN, "square", List.of(), false).getJobId());
    }
    String id = submit(ERIN, "square", List.of(), false).getJobId();
    Throwable refused = Inputs.open(ERIN).send(id, 0, json(1, 2, "\"three\"", 4), true).failure();
    assertThat(code(refused)).isEqualTo(Status.Code.INVALID_ARGUMENT);
    JobRequest request = JobRequest.newBuilder().setJobId(id).build();
    JobStatus refusedAt = jobs(ERIN).getJob(request);
    assertThat(refusedAt.getInputsClosed()).as("inputs closed, as the batch asked").isTrue();
    assertThat(refusedAt.getInputsReceived()).isEqualTo(2);
    assertThat(description(refused))
        .contains("input 2 is not JSON of type integer", "the job's inputs end at 2");

    await("the job's end")
        .atMost(TestTime.LONG)
        .until(() -> jobs(ERIN).getJob(request).getState() == JobState.COMPLETED);
    assertThat(read(ERIN, id, true, 0)).extracting(JobServiceTest::valueOf).containsExactly(1L, 4L);
    // Finished, it no longer counts against erin's limit.
    assertThat(submit(ERIN, "square", json(5), true).getJobId()).isNotEmpty();
    for (String o : open) {
      jobs(ERIN).cancel(JobRequest.newBuilder().setJobId(o).build());
    }
  }

  @Test
  void tokensAreRequiredAndEachClientSeesOnlyItsOwnJobs() {
    assertThatThrownBy(() -> jobs(null).listJobs(ListJobsRequest.getDefaultInstance()))
        .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.UNAUTHENTICATED))
        .satisfies(e -> assertThat(description(e)).contains("requires a token"));
    assertThatThrownBy(
            () -> jobs("not-a-token-of-anyone").listJobs(ListJobsRequest.getDefaultInstance()))
        .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.UNAUTHENTICATED))
        .satisfies(e -> assertThat(description(e)).isEqualTo("unknown token"));

    String alices = submit(ALICE, "square", json(5), true).getJobId();
    JobRequest request = JobRequest.newBuilder().setJobId(alices).build();
    for (org.assertj.core.api.ThrowableAssert.ThrowingCallable call :
        List.<org.assertj.core.api.ThrowableAssert.ThrowingCallable>of(
            () -> jobs(BOB).getJob(request),
            () -> jobs(BOB).cancel(request),
            () -> read(BOB, alices, true, 0))) {
      assertThatThrownBy(call)
          .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.NOT_FOUND))
          .satisfies(e -> assertThat(description(e)).contains("belongs to another token"));
    }
    assertThat(code(Inputs.open(BOB).send(alices, 1, json(6), true).failure()))
        .isEqualTo(Status.Code.NOT_FOUND);
    assertThat(jobs(BOB).listJobs(ListJobsRequest.getDefaultInstance()).getJobsList())
        .extracting(JobStatus::getJobId)
        .doesNotContain(alices);
    assertThat(jobs(ALICE).listJobs(ListJobsRequest.getDefaultInstance()).getJobsList())
        .extracting(JobStatus::getJobId)
        .contains(alices);
    assertThat(read(ALICE, alices, true, 0))
        .extracting(JobServiceTest::valueOf)
        .containsExactly(25L);
  }

  @Test
  void aClientMayRunOnlyItsLimitOfJobs() {
    List<String> open = new ArrayList<>();
    for (int i = 0; i < MAX_JOBS; i++) {
      open.add(submit(CAROL, "square", List.of(), false).getJobId());
    }
    assertThatThrownBy(() -> submit(CAROL, "square", List.of(), false))
        .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.RESOURCE_EXHAUSTED))
        .satisfies(
            e ->
                assertThat(description(e))
                    .contains("client 'carol' already has " + MAX_JOBS + " running jobs"));
    // Others are not held back by carol's jobs.
    assertThat(submit(ALICE, "square", List.of(), true).getState()).isEqualTo(JobState.COMPLETED);
    for (String id : open) {
      assertThat(jobs(CAROL).cancel(JobRequest.newBuilder().setJobId(id).build()).getState())
          .isEqualTo(JobState.CANCELLED);
    }
    assertThat(submit(CAROL, "square", json(3), true).getJobId()).isNotEmpty();
  }

  @Test
  void aClientKeepsOnlyItsLimitOfResults() {
    // 25 results of 50,000 characters: more than the 1 MiB a client may keep.
    String id =
        submit(DAVE, "blob", json(IntStream.range(0, 25).mapToObj(i -> 50_000).toArray()), true)
            .getJobId();
    assertThat(read(DAVE, id, true, 0))
        .hasSize(25)
        .allSatisfy(r -> assertThat(r.hasError()).isFalse());
    assertThatThrownBy(() -> submit(DAVE, "square", json(1), true))
        .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.RESOURCE_EXHAUSTED))
        .satisfies(
            e -> assertThat(description(e)).contains("client 'dave' keeps", "--max-kept-bytes"));
    // What dave keeps is dave's: others submit as before.
    assertThat(submit(BOB, "square", json(2), true).getJobId()).isNotEmpty();
  }

  @Test
  void cancellingDropsTheInputsThatHaveNotStarted() {
    String id =
        submit(ALICE, "nap", json(IntStream.range(0, 40).mapToObj(i -> 100).toArray()), true)
            .getJobId();
    Iterator<ResultBatch> stream =
        jobs(ALICE).results(ResultsRequest.newBuilder().setJobId(id).setOrdered(false).build());
    List<Result> results = new ArrayList<>(stream.next().getResultsList());
    JobStatus cancelled = jobs(ALICE).cancel(JobRequest.newBuilder().setJobId(id).build());
    stream.forEachRemaining(b -> results.addAll(b.getResultsList()));

    assertThat(results).extracting(Result::getIndex).doesNotHaveDuplicates().hasSize(40);
    long dropped = results.stream().filter(r -> r.getError().getType().equals("Cancelled")).count();
    assertThat(dropped).isPositive();
    JobStatus end = jobs(ALICE).getJob(JobRequest.newBuilder().setJobId(id).build());
    assertThat(end.getState()).isEqualTo(JobState.CANCELLED);
    assertThat(end.getCancelled()).isEqualTo(dropped);
    assertThat(end.getSucceeded() + end.getCancelled()).isEqualTo(40);
    assertThat(cancelled.getInputsClosed()).isTrue();
    assertThat(code(Inputs.open(ALICE).send(id, 40, json(1), true).failure()))
        .isEqualTo(Status.Code.FAILED_PRECONDITION);
  }

  @Test
  void workersAreListedWithTheirWork() {
    read(
        ALICE,
        submit(ALICE, "square", json(IntStream.range(0, 50).boxed().toArray()), true).getJobId(),
        true,
        0);
    List<WorkerInfo> workers =
        jobs(ALICE).listWorkers(ListWorkersRequest.getDefaultInstance()).getWorkersList();
    assertThat(workers)
        .hasSize(2)
        .allSatisfy(
            w -> {
              assertThat(w.getPid()).isPositive();
              assertThat(w.getHost()).isNotEmpty();
              assertThat(w.getCores()).isPositive();
              assertThat(w.getThreads()).isEqualTo(1);
            });
    assertThat(workers.stream().mapToLong(WorkerInfo::getTasksDone).sum())
        .isGreaterThanOrEqualTo(50);
  }

  @Test
  void healthAndReflectionServeStandardTools() throws Exception {
    HealthCheckResponse health =
        HealthGrpc.newBlockingStub(channel)
            .withDeadlineAfter(30, TimeUnit.SECONDS)
            .check(HealthCheckRequest.newBuilder().setService("flotilla.v1.JobService").build());
    assertThat(health.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);

    Metadata auth = new Metadata();
    auth.put(ClientTokens.AUTHORIZATION, "Bearer " + ALICE);
    assertThat(listServices(auth)).contains("flotilla.v1.JobService", "grpc.health.v1.Health");
    assertThatThrownBy(() -> listServices(new Metadata()))
        .satisfies(e -> assertThat(code(e.getCause())).isEqualTo(Status.Code.UNAUTHENTICATED));
  }

  private static Set<String> listServices(Metadata headers) throws Exception {
    CompletableFuture<Set<String>> names = new CompletableFuture<>();
    StreamObserver<ServerReflectionRequest> requests =
        ServerReflectionGrpc.newStub(channel)
            .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
            .withDeadlineAfter(30, TimeUnit.SECONDS)
            .serverReflectionInfo(
                new StreamObserver<>() {
                  @Override
                  public void onNext(ServerReflectionResponse r) {
                    Set<String> found = new HashSet<>();
                    r.getListServicesResponse()
                        .getServiceList()
                        .forEach(s -> found.add(s.getName()));
                    names.complete(found);
                  }

                  @Override
                  public void onError(Throwable t) {
                    names.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {}
                });
    requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
    try {
      return names.get(30, TimeUnit.SECONDS);
    } finally {
      requests.onCompleted();
    }
  }

  @Test
  void finishedJobsAreForgottenAfterTheirRetentionAndAbandonedInputsClosed(@TempDir Path dir)
      throws Exception {
    try (RemoteWorkers shortLived =
        new RemoteWorkers(
            dir,
            Map.of(ALICE, "alice"),
            new JobLimits(MAX_MESSAGE, 10, 10, MAX_KEPT, Duration.ofMillis(500)))) {
      ManagedChannel ch =
          NettyChannelBuilder.forTarget(shortLived.address()).usePlaintext().build();
      try {
        Metadata auth = new Metadata();
        auth.put(ClientTokens.AUTHORIZATION, "Bearer " + ALICE);
        JobServiceGrpc.JobServiceBlockingStub s =
            JobServiceGrpc.newBlockingStub(ch)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(auth));
        // No inputs, and no stream sending any: after the retention time its inputs are closed, and
        // after as long again it is forgotten.
        String id =
            s.withDeadlineAfter(30, TimeUnit.SECONDS)
                .submit(SubmitRequest.newBuilder().setFunction("square").build())
                .getJobId();
        JobRequest request = JobRequest.newBuilder().setJobId(id).build();
        await("inputs closed")
            .atMost(TestTime.LONG)
            .until(
                () ->
                    s.withDeadlineAfter(30, TimeUnit.SECONDS).getJob(request).getState()
                        == JobState.COMPLETED);
        await("forgotten")
            .atMost(TestTime.LONG)
            .untilAsserted(
                () ->
                    assertThatThrownBy(
                            () -> s.withDeadlineAfter(30, TimeUnit.SECONDS).getJob(request))
                        .satisfies(e -> assertThat(code(e)).isEqualTo(Status.Code.NOT_FOUND))
                        .satisfies(e -> assertThat(description(e)).contains("expired")));
      } finally {
        ch.shutdownNow();
      }
    }
  }

  /** Bytes as they are, to send what no stub would. */
  private enum RawBytes implements MethodDescriptor.Marshaller<byte[]> {
    INSTANCE;

    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
  }
}
