package io.flotilla.cli.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code flotilla submit / attach / cancel / status / functions}, each run as a user runs it (a JVM
 * of its own, JSON lines in and out, exit codes), against a real coordinator and a worker that
 * joined it.
 */
class JobCommandsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern JOB_ID = Pattern.compile("job (j-[0-9a-f]+)");

  @TempDir static Path dir;
  private static JobCluster cluster;

  @BeforeAll
  static void start() throws IOException {
    cluster = new JobCluster(dir, 1, 2);
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  /** A {@code flotilla} command running in its own JVM; its output lines are kept as they come. */
  static final class Run implements AutoCloseable {
    final Process process;
    final List<String> out = new CopyOnWriteArrayList<>();
    final List<String> err = new CopyOnWriteArrayList<>();

    Run(String token, String stdin, String... args) throws IOException {
      this(token, stdin.getBytes(StandardCharsets.UTF_8), args);
    }

    Run(String token, byte[] stdin, String... args) throws IOException {
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.flotilla.cli.Main"));
      command.addAll(List.of(args));
      ProcessBuilder builder = new ProcessBuilder(command);
      Map<String, String> env = builder.environment();
      env.remove("FLOTILLA_SECRET");
      env.remove("FLOTILLA_TOKEN");
      env.put("FLOTILLA_COORDINATOR", cluster.address());
      if (token != null) {
        env.put("FLOTILLA_TOKEN", token);
      }
      process = builder.start();
      collect(process.getInputStream(), out);
      collect(process.getErrorStream(), err);
      try (var in = process.getOutputStream()) {
        in.write(stdin);
      }
    }

    private static void collect(java.io.InputStream stream, List<String> into) {
      Thread t =
          new Thread(
              () -> {
                try (BufferedReader r =
                    new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                  for (String line; (line = r.readLine()) != null; ) {
                    into.add(line);
                  }
                } catch (IOException gone) {
                  // the process ended
                }
              });
      t.setDaemon(true);
      t.start();
    }

    int exit() throws InterruptedException {
      assertThat(process.waitFor(3, TimeUnit.MINUTES))
          .as("the command ended; stderr: %s", err)
          .isTrue();
      // The readers may still be draining the pipes.
      await().atMost(Duration.ofSeconds(10)).until(() -> !process.isAlive());
      return process.exitValue();
    }

    /**
     * @return the result lines, parsed, once the command has ended
     */
    List<JsonNode> results() throws Exception {
      List<JsonNode> parsed = new ArrayList<>();
      for (String line : out) {
        parsed.add(JSON.readTree(line));
      }
      return parsed;
    }

    String jobId() {
      await("the job id on stderr")
          .atMost(Duration.ofSeconds(60))
          .until(() -> err.stream().anyMatch(l -> JOB_ID.matcher(l).find()));
      for (String line : err) {
        Matcher m = JOB_ID.matcher(line);
        if (m.find()) {
          return m.group(1);
        }
      }
      throw new AssertionError("no job id in " + err);
    }

    @Override
    public void close() {
      process.destroyForcibly();
    }
  }

  private static Run flotilla(String stdin, String... args) throws IOException {
    return new Run(JobCluster.ALICE, stdin, args);
  }

  private static String lines(IntStream numbers) {
    return numbers.mapToObj(Integer::toString).collect(Collectors.joining("\n", "", "\n"));
  }

  private static boolean isPrime(int n) {
    return n >= 2 && IntStream.rangeClosed(2, (int) Math.sqrt(n)).noneMatch(d -> n % d == 0);
  }

  @Test
  void theReadmesOneLinerWorks() throws Exception {
    try (Run run = flotilla("19001\n", "submit", "--fn", "isprime")) {
      assertThat(run.exit()).isZero();
      assertThat(run.out).containsExactly("{\"index\":0,\"value\":true}");
    }
  }

  @Test
  void resultsComeInInputOrderOrAsCompleted(@TempDir Path tmp) throws Exception {
    Path input = tmp.resolve("numbers.jsonl");
    Files.writeString(input, lines(IntStream.range(0, 300)));
    try (Run ordered =
        flotilla("", "submit", "--fn", "isprime", "--input", input.toString(), "--ordered")) {
      assertThat(ordered.exit()).isZero();
      List<JsonNode> results = ordered.results();
      assertThat(results)
          .extracting(r -> r.get("index").asInt())
          .containsExactlyElementsOf(IntStream.range(0, 300).boxed().toList());
      assertThat(results)
          .allSatisfy(
              r ->
                  assertThat(r.get("value").asBoolean())
                      .isEqualTo(isPrime(r.get("index").asInt())));
    }
    try (Run unordered =
        flotilla("", "submit", "--fn", "isprime", "--input", input.toString(), "--unordered")) {
      assertThat(unordered.exit()).isZero();
      assertThat(unordered.results())
          .extracting(r -> r.get("index").asInt())
          .doesNotHaveDuplicates()
          .hasSize(300);
    }
  }

  @Test
  void protobufAndBytesFunctionsTakeJsonLinesToo() throws Exception {
    try (Run words =
        flotilla(
            "{\"text\": \"the cat and the hat\", \"top\": 1}\n", "submit", "--fn", "wordcount")) {
      assertThat(words.exit()).isZero();
      assertThat(words.out)
          .containsExactly(
              "{\"index\":0,\"value\":{\"words\":[{\"word\":\"the\",\"count\":2}],\"total\":5}}");
    }
    try (Run digest = flotilla("\"abc\"\n{\"base64\": \"YWJj\"}\n", "submit", "--fn", "sha256")) {
      assertThat(digest.exit()).isZero();
      String abc = "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=";
      assertThat(digest.out)
          .containsExactly(
              "{\"index\":0,\"base64\":\"" + abc + "\"}",
              "{\"index\":1,\"base64\":\"" + abc + "\"}");
    }
  }

  @Test
  void failedItemsAreLinesOfTheirOwnAndExitOne() throws Exception {
    try (Run run = flotilla("3\n500\n4\n", "submit", "--fn", "pbkdf2")) {
      assertThat(run.exit()).isEqualTo(JobExit.ITEMS_FAILED);
      List<JsonNode> results = run.results();
      assertThat(results).hasSize(3);
      assertThat(results.get(1).get("error").get("type").asText())
          .isEqualTo("java.lang.IllegalArgumentException");
      assertThat(results.get(1).get("error").get("message").asText())
          .contains("between 0 and 200, not 500");
      assertThat(results.get(2).get("value").asText()).hasSize(64);
    }
  }

  @Test
  void standardInputThatIsNotUtf8IsRefusedAtItsLine() throws Exception {
    // Line 2 is "1" in UTF-16 with its byte-order mark: no UTF-8 reader may guess it into a number.
    byte[] stdin = {'7', '\n', (byte) 0xff, (byte) 0xfe, '1', 0, '\n', '1', '1', '\n'};
    try (Run run = new Run(JobCluster.ALICE, stdin, "submit", "--fn", "isprime")) {
      assertThat(run.exit()).isEqualTo(JobExit.USAGE);
      assertThat(String.join("\n", run.err)).contains("line 2 is not UTF-8");
      assertThat(run.out)
          .as("the line before it ran")
          .containsExactly("{\"index\":0,\"value\":true}");
    }
  }

  @Test
  void refusalsHaveTheirOwnExitCodesAndMessages() throws Exception {
    try (Run wrongType = flotilla("1\n2\n\"x\"\n4\n", "submit", "--fn", "isprime")) {
      assertThat(wrongType.exit()).isEqualTo(JobExit.REFUSED);
      assertThat(String.join("\n", wrongType.err))
          .contains("INVALID_ARGUMENT: input 2 is not JSON of type integer");
      // What came before the bad line still ran.
      assertThat(wrongType.out)
          .containsExactly("{\"index\":0,\"value\":false}", "{\"index\":1,\"value\":true}");
    }
    try (Run unknown = flotilla("1\n", "submit", "--fn", "nope")) {
      assertThat(unknown.exit()).isEqualTo(JobExit.REFUSED);
      assertThat(String.join("\n", unknown.err))
          .contains("NOT_FOUND: no function named 'nope'; this cluster has: isprime, pbkdf2");
    }
    try (Run badLine = flotilla("{\"text\": 5, \"nope\": 1}\n", "submit", "--fn", "wordcount")) {
      assertThat(badLine.exit()).isEqualTo(JobExit.USAGE);
      assertThat(String.join("\n", badLine.err))
          .contains("input 0 (line 1): not the JSON form of flotilla.demo.v1.Text");
    }
    try (Run noToken = new Run(null, "1\n", "submit", "--fn", "isprime")) {
      assertThat(noToken.exit()).isEqualTo(JobExit.UNAUTHENTICATED);
      assertThat(String.join("\n", noToken.err))
          .contains("UNAUTHENTICATED: this coordinator requires a token");
    }
    try (Run wrongToken = new Run("not-the-token-of-anyone", "", "status")) {
      assertThat(wrongToken.exit()).isEqualTo(JobExit.UNAUTHENTICATED);
      assertThat(String.join("\n", wrongToken.err)).contains("UNAUTHENTICATED: unknown token");
    }
    try (Run nobody = flotilla("", "status", "--connect", "127.0.0.1:1", "--timeout", "5s")) {
      assertThat(nobody.exit()).isEqualTo(JobExit.UNREACHABLE);
      assertThat(String.join("\n", nobody.err))
          .contains("UNAVAILABLE: cannot reach the coordinator at 127.0.0.1:1");
    }
  }

  @Test
  void cancelDropsWhatHasNotStarted() throws Exception {
    try (Run submit =
        flotilla(
            lines(IntStream.range(0, 40).map(i -> 30)),
            "submit",
            "--fn",
            "pbkdf2",
            "--unordered")) {
      String id = submit.jobId();
      await("a first result").atMost(Duration.ofSeconds(60)).until(() -> !submit.out.isEmpty());
      try (Run cancel = flotilla("", "cancel", id)) {
        assertThat(cancel.exit()).isZero();
        assertThat(cancel.out.get(0)).startsWith(id + " pbkdf2 CANCELLED");
      }
      assertThat(submit.exit()).isEqualTo(JobExit.CANCELLED);
      List<JsonNode> results = submit.results();
      assertThat(results)
          .extracting(r -> r.get("index").asInt())
          .doesNotHaveDuplicates()
          .hasSize(40);
      assertThat(results)
          .anySatisfy(
              r -> assertThat(r.path("error").path("type").asText()).isEqualTo("Cancelled"));
    }
  }

  @Test
  void aKilledSubmitterIsFollowedUpByAttach() throws Exception {
    String id;
    List<String> seen;
    try (Run submit =
        flotilla(lines(IntStream.range(0, 40).map(i -> 15)), "submit", "--fn", "pbkdf2")) {
      id = submit.jobId();
      await("five results").atMost(Duration.ofSeconds(60)).until(() -> submit.out.size() >= 5);
      submit.process.destroyForcibly().waitFor();
      seen = List.copyOf(submit.out);
    }
    try (Run attach = flotilla("", "attach", id, "--from", Integer.toString(seen.size()))) {
      assertThat(attach.exit()).isZero();
      List<String> all = new ArrayList<>(seen);
      all.addAll(attach.out);
      List<Integer> indices = new ArrayList<>();
      for (String line : all) {
        indices.add(JSON.readTree(line).get("index").asInt());
      }
      assertThat(indices).containsExactlyElementsOf(IntStream.range(0, 40).boxed().toList());
    }
  }

  @Test
  void submittingAgainWithTheKeyFindsTheJob(@TempDir Path tmp) throws Exception {
    Path input = tmp.resolve("in.jsonl");
    Files.writeString(input, lines(IntStream.range(0, 10)));
    String first;
    try (Run once =
        flotilla(
            "", "submit", "--fn", "isprime", "--input", input.toString(), "--key", "report-7")) {
      assertThat(once.exit()).isZero();
      first = once.jobId();
    }
    try (Run twice =
        flotilla(
            "", "submit", "--fn", "isprime", "--input", input.toString(), "--key", "report-7")) {
      assertThat(twice.exit()).isZero();
      assertThat(twice.jobId()).isEqualTo(first);
      assertThat(String.join("\n", twice.err)).contains("found again by its key");
      assertThat(twice.results())
          .extracting(r -> r.get("index").asInt())
          .containsExactlyElementsOf(IntStream.range(0, 10).boxed().toList());
    }
  }

  @Test
  void statusShowsWorkersAndJobsAndFunctionsTheirSignatures() throws Exception {
    String id;
    try (Run job = flotilla("7\n", "submit", "--fn", "isprime")) {
      assertThat(job.exit()).isZero();
      id = job.jobId();
    }
    try (Run status = flotilla("", "status")) {
      assertThat(status.exit()).isZero();
      assertThat(status.out).contains("workers: 1");
      assertThat(status.out)
          .anySatisfy(
              l -> assertThat(l).contains(id + " isprime COMPLETED inputs 1 (closed) succeeded 1"));
    }
    try (Run json = flotilla("", "status", "--json")) {
      assertThat(json.exit()).isZero();
      JsonNode tree = JSON.readTree(String.join("", json.out));
      assertThat(tree.get("workers")).hasSize(1);
      assertThat(tree.get("workers").get(0).get("pid").asLong()).isPositive();
      assertThat(tree.get("workers").get(0).get("tasksDone").asLong()).isPositive();
    }
    // Jobs are the client's own: another token sees none of alice's.
    try (Run bob = new Run(JobCluster.BOB, "", "status", id)) {
      assertThat(bob.exit()).isEqualTo(JobExit.REFUSED);
      assertThat(String.join("\n", bob.err))
          .contains("NOT_FOUND: no job " + id + " for this client");
    }
    try (Run functions = flotilla("", "functions")) {
      assertThat(functions.exit()).isZero();
      assertThat(functions.out)
          .anySatisfy(l -> assertThat(l).startsWith("isprime(json integer) -> json boolean"))
          .anySatisfy(
              l ->
                  assertThat(l)
                      .startsWith(
                          "wordcount(protobuf flotilla.demo.v1.Text) -> protobuf flotilla.demo.v1.WordCounts"));
    }
  }
}
