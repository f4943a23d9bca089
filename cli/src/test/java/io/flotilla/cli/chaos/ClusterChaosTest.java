package io.flotilla.cli.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flotilla.cli.cluster.ChildJvm;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code flotilla chaos --cluster} as a user runs it, briefly: a coordinator, two worker hosts and
 * a connected map while task JVMs die by SIGKILL and by {@code System.exit}; the hosts start them
 * again and every result arrives once and right.
 */
class ClusterChaosTest {
  private static final Pattern LINE =
      Pattern.compile(
          "\\{\"items\":(\\d+),\"kills\":(\\d+),\"restarts\":(\\d+),\"lost\":(\\d+),"
              + "\"duplicated\":(\\d+),\"wrong\":(\\d+),\"seconds\":[0-9.]+}");

  @Test
  void taskJvmsKilledEverySecondAreStartedAgainAndNothingIsLost() throws Exception {
    try (ChildJvm chaos =
        new ChildJvm(
            "chaos",
            null,
            Map.of(),
            "chaos",
            "--cluster",
            "--workers",
            "2",
            "--items",
            "20000",
            "--kill-every",
            "1s",
            "--duration",
            "12s",
            "--json")) {
      // The processes it starts (worker hosts and their task JVMs), sampled while it runs.
      Set<ProcessHandle> started = ConcurrentHashMap.newKeySet();
      await("chaos to finish")
          .atMost(Duration.ofMinutes(4))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () -> {
                chaos.process().descendants().forEach(started::add);
                return !chaos.process().isAlive();
              });
      assertThat(chaos.process().exitValue()).as(chaos.output()).isZero();
      String json = chaos.line("{\"items\":");
      assertThat(json).as(chaos.output()).isNotNull();
      Matcher m = LINE.matcher(json.trim());
      assertThat(m.matches()).as(json).isTrue();
      assertThat(Long.parseLong(m.group(1))).as("items").isPositive();
      long kills = Long.parseLong(m.group(2));
      assertThat(kills).as("kills").isGreaterThanOrEqualTo(6);
      // A task that exits its JVM is counted as it runs; its host may still be restarting it.
      assertThat(Long.parseLong(m.group(3))).as("restarts").isGreaterThanOrEqualTo(kills - 2);
      assertThat(m.group(4)).as("lost").isEqualTo("0");
      assertThat(m.group(5)).as("duplicated").isEqualTo("0");
      assertThat(m.group(6)).as("wrong").isEqualTo("0");
      // Every process it started has ended with it.
      assertThat(started).as("worker hosts and task JVMs seen").hasSizeGreaterThan(4);
      await("no process left behind")
          .atMost(Duration.ofSeconds(30))
          .until(() -> started.stream().noneMatch(ProcessHandle::isAlive));
    }
  }
}
