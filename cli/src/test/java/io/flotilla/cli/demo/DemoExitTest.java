package io.flotilla.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.cli.cluster.ChildJvm;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code flotilla demo} as a user runs it: on local workers, against a coordinator that wants a
 * secret and against none. Each ends with its own exit code and, when it fails, one line saying
 * why, never the code of results that differ.
 */
@Timeout(180)
class DemoExitTest {
  private static final String SECRET = "demo-exit-secret";

  @TempDir Path dir;

  @Test
  void aCoordinatorThatRefusesTheSecretIsExit5() throws Exception {
    try (ChildJvm coordinator =
        ChildJvm.coordinator(dir.resolve("data"), SECRET, Duration.ofSeconds(90))) {
      String address = coordinator.grpcAddress();
      for (Map<String, String> env :
          java.util.List.of(Map.<String, String>of(), Map.of("FLOTILLA_SECRET", "wrong"))) {
        try (ChildJvm demo =
            new ChildJvm("demo", null, env, "demo", "--connect", address, "--only", "primes")) {
          assertThat(exit(demo)).as(demo.output()).isEqualTo(DemoCommand.REFUSED);
          assertThat(demo.line("flotilla demo: "))
              .as(demo.output())
              .contains("refused this client");
        }
      }
    }
  }

  @Test
  void aRunWhoseExecutorsAgreeIsExit0() throws Exception {
    try (ChildJvm demo =
        new ChildJvm(
            "demo", null, Map.of(), "demo", "--only", "primes", "--json", "--workers", "2")) {
      assertThat(exit(demo)).as(demo.output()).isEqualTo(DemoCommand.OK);
      assertThat(demo.lines("{\"workload\":\"primes\"")).as(demo.output()).hasSize(3);
    }
  }

  @Test
  void noCoordinatorIsExit7() throws Exception {
    int closed;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = probe.getLocalPort();
    }
    try (ChildJvm demo =
        new ChildJvm("demo", null, Map.of(), "demo", "--connect", "127.0.0.1:" + closed)) {
      assertThat(exit(demo)).as(demo.output()).isEqualTo(DemoCommand.UNREACHABLE);
      assertThat(demo.line("flotilla demo: ")).as(demo.output()).contains("cannot reach");
    }
  }

  private static int exit(ChildJvm command) throws InterruptedException {
    assertThat(command.process().waitFor(120, TimeUnit.SECONDS)).as(command.output()).isTrue();
    return command.process().exitValue();
  }
}
