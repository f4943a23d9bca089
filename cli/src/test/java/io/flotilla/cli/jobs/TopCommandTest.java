package io.flotilla.cli.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.cli.cluster.ChildJvm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code flotilla top} against a real coordinator, on loopback: it reads the dashboard at the
 * address the coordinator's ready line gives. {@link FleetViewTest} checks the drawing itself
 * against the API's contract, {@link DashboardClientTest} each way the dashboard can refuse.
 */
class TopCommandTest {
  private static final Duration WAIT = Duration.ofSeconds(90);

  @TempDir Path tmp;

  @Test
  void onceDrawsOneFrameOfARunningCoordinator() throws Exception {
    try (ChildJvm coordinator = ChildJvm.coordinator(tmp.resolve("data"), "top", WAIT)) {
      String dashboard = dashboardAddress(coordinator);
      try (ChildJvm top =
          new ChildJvm("top", null, Map.of(), "top", "--once", "--dashboard", dashboard)) {
        assertThat(top.waitFor(WAIT)).as(top.output()).isTrue();
        assertThat(top.process().exitValue()).as(top.output()).isZero();
        assertThat(top.line(" | workers 0 | threads 0/0 busy | "))
            .as(top.output())
            .startsWith("coordinator ");
        assertThat(top.line("WORKERS: 0 up")).as(top.output()).isNotNull();
        assertThat(top.line("FAILURES: none")).as(top.output()).isNotNull();
        assertThat(top.output()).as("no control codes with --once").doesNotContain("\033");
      }
    }
  }

  /**
   * @return HOST:PORT of the dashboard, from the ready line's {@code
   *     metrics=http://HOST:PORT/metrics}
   */
  static String dashboardAddress(ChildJvm coordinator) {
    String ready = coordinator.line("flotilla coordinator ready:");
    int at = ready.indexOf("metrics=http://");
    assertThat(at).as(ready).isNotNegative();
    String url = ready.substring(at + "metrics=http://".length());
    return url.substring(0, url.indexOf('/'));
  }
}
