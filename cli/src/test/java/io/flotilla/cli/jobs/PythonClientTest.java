package io.flotilla.cli.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.testing.Requirements;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Python client in {@code examples/python}: its unittest suite, run by Debian's {@code
 * /usr/bin/python3} against a real cluster (a coordinator with two clients' tokens and one worker
 * of two threads), as a user of another language would use the job service.
 *
 * <p>Needs Debian's {@code python3-grpcio} and {@code python3-grpc-tools}; without them it is
 * skipped, and under {@code CI=true} it fails (see {@link Requirements}).
 */
class PythonClientTest {
  private static final String PYTHON = "/usr/bin/python3";

  /**
   * The tests in examples/python/tests: update when adding one, so that a suite that ran nothing
   * fails.
   */
  private static final int EXPECTED_TESTS = 15;

  private static final long TIMEOUT_MINUTES = 5;

  @TempDir Path tmp;

  @Test
  void pythonClientSuitePassesAgainstALiveCluster() throws Exception {
    Path examples = examplesDir();
    requirePythonGrpc(examples);
    try (JobCluster cluster = new JobCluster(tmp, 1, 2)) {
      Path log = tmp.resolve("python-tests.log");
      ProcessBuilder builder =
          new ProcessBuilder(PYTHON, "-m", "unittest", "discover", "-s", "tests", "-v")
              .directory(examples.toFile())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile());
      Map<String, String> env = builder.environment();
      cleanPythonEnvironment(env);
      env.put("FLOTILLA_ADDRESS", cluster.address());
      env.put("FLOTILLA_TOKEN_A", JobCluster.ALICE);
      env.put("FLOTILLA_TOKEN_B", JobCluster.BOB);
      Process python = builder.start();
      boolean exited = python.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES);
      if (!exited) {
        python.descendants().forEach(ProcessHandle::destroyForcibly);
        python.destroyForcibly();
        python.waitFor(30, TimeUnit.SECONDS);
      }
      String output = Files.readString(log, StandardCharsets.UTF_8);
      String report = "python tests printed:\n" + output + "\n" + cluster.coordinator().output();
      assertThat(exited)
          .as("the Python tests finish within %d minutes; %s", TIMEOUT_MINUTES, report)
          .isTrue();
      assertThat(python.exitValue()).as(report).isZero();
      Matcher ran = Pattern.compile("(?m)^Ran (\\d+) tests? in ([0-9.]+)s$").matcher(output);
      assertThat(ran.find()).as("a 'Ran N tests' line; %s", report).isTrue();
      assertThat(Integer.parseInt(ran.group(1)))
          .as("tests run; %s", report)
          .isEqualTo(EXPECTED_TESTS);
      List<String> lines = output.strip().lines().toList();
      assertThat(lines.get(lines.size() - 1))
          .as("the verdict (no skips, no failures); %s", report)
          .isEqualTo("OK");
      System.out.println(
          "Python client tests: " + ran.group(1) + " tests in " + ran.group(2) + " s");
    }
  }

  /** examples/python of this repository: surefire runs in cli/, an IDE may run in the root. */
  private static Path examplesDir() {
    Path here = Path.of("").toAbsolutePath();
    for (Path candidate :
        List.of(here.resolve("../examples/python"), here.resolve("examples/python"))) {
      if (Files.isRegularFile(candidate.resolve("tests/test_client.py"))) {
        return candidate.normalize();
      }
    }
    throw new AssertionError("no examples/python/tests/test_client.py beside " + here);
  }

  /**
   * Skips (fails under CI=true) when the system Python lacks gRPC or its stub generator. The check
   * runs in examples/python with the environment the tests get, so it imports what they will
   * import.
   */
  private static void requirePythonGrpc(Path examples) throws IOException, InterruptedException {
    String needs = PYTHON + " with the grpc, grpc_tools and google.protobuf modules";
    String remedy = "apt-get install python3-grpcio python3-grpc-tools";
    Requirements.require(Files.isExecutable(Path.of(PYTHON)), needs, remedy);
    ProcessBuilder builder =
        new ProcessBuilder(PYTHON, "-c", "import grpc, grpc_tools.protoc, google.protobuf")
            .directory(examples.toFile())
            .redirectErrorStream(true);
    cleanPythonEnvironment(builder.environment());
    Process check = builder.start();
    check.getOutputStream().close();
    String output = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    boolean imported = check.waitFor(60, TimeUnit.SECONDS) && check.exitValue() == 0;
    String missing =
        output.lines().filter(l -> l.startsWith("ModuleNotFoundError")).findFirst().orElse("");
    Requirements.require(imported, needs + (missing.isEmpty() ? "" : " (" + missing + ")"), remedy);
  }

  /**
   * The system interpreter, unaffected by a virtualenv or pyenv of the shell that started the
   * build.
   */
  private static void cleanPythonEnvironment(Map<String, String> env) {
    env.keySet()
        .removeIf(
            k -> k.startsWith("PYTHON") || k.equals("VIRTUAL_ENV") || k.startsWith("FLOTILLA_"));
    env.put("PYTHONDONTWRITEBYTECODE", "1");
    env.put("PYTHONUNBUFFERED", "1");
  }
}
