package io.flotilla.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/**
 * {@code flotilla bench} end to end, on real worker JVMs, without Python (see {@link
 * PythonSideTest}).
 */
@Timeout(300)
class BenchCommandTest {
  private record Result(int status, List<Row> rows) {}

  private static Result bench(String... args) {
    PrintStream original = System.out;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    int status;
    try {
      status = new CommandLine(new BenchCommand()).execute(args);
    } finally {
      System.setOut(original);
    }
    List<Row> rows = bytes.toString(StandardCharsets.UTF_8).lines().map(Row::parse).toList();
    return new Result(status, rows);
  }

  @Test
  void jsonLinesForEveryExecutorInOrder() {
    Result r = bench("--quick", "--json", "--python", "none", "--workers", "2", "--only", "primes");
    assertThat(r.status()).isZero();
    assertThat(r.rows()).extracting(Row::executor).containsExactly("serial", "thread", "process");
    assertThat(r.rows())
        .allSatisfy(
            row -> {
              assertThat(row.toJson()).startsWith("{\"workload\":\"primes\",\"executor\":");
              assertThat(row.number(Row.ITEMS)).isEqualTo(1000.0);
              assertThat(row.number(Row.ITEMS_PER_S)).isPositive();
            });
    assertThat(r.rows().get(2).number(Row.WORKERS)).isEqualTo(2.0);
  }

  @Test
  void freshCallersReportStartupAndIdleMemory() {
    Result r =
        bench("--quick", "--json", "--python", "none", "--workers", "2", "--only", "rss,startup");
    assertThat(r.status()).isZero();
    assertThat(r.rows())
        .extracting(Row::workload)
        .containsExactly("startup", "startup-total", "rss-worker", "rss-coordinator");
    assertThat(r.rows().get(1).number(Row.SECONDS))
        .isGreaterThan(r.rows().get(0).number(Row.SECONDS));
    assertThat(r.rows().get(2).number(Row.RSS_MB)).isPositive();
  }

  @Test
  void metricsTimesThreePoolsInTurnAndStopsWhatItStarted() throws InterruptedException {
    Result r =
        bench("--quick", "--json", "--python", "none", "--workers", "1", "--only", "metrics");
    assertThat(r.status()).isZero();
    assertThat(r.rows())
        .extracting(row -> row.workload() + " " + row.executor())
        .containsExactly(
            "metrics-submit process",
            "metrics-submit process+metrics",
            "metrics-submit process+metrics+watched",
            "metrics-map1m process",
            "metrics-map1m process+metrics",
            "metrics-map1m process+metrics+watched");
    assertThat(r.rows().get(0).number("vs_off")).isEqualTo(1.0);
    assertThat(r.rows().get(3).number("vs_off")).isEqualTo(1.0);
    assertThat(r.rows())
        .allSatisfy(row -> assertThat(row.number("vs_off")).isPositive())
        .allSatisfy(row -> assertThat(row.number(Row.ITEMS_PER_S)).isPositive());
    Row watchedMap = r.rows().get(5);
    assertThat(watchedMap.number(Row.ITEMS)).isEqualTo(1_000_000.0);
    assertThat(watchedMap.number("snapshot_bytes")).isPositive();
    assertThat(watchedMap.number("snapshot_max_bytes"))
        .isGreaterThanOrEqualTo(watchedMap.number("snapshot_bytes"));
    assertThat(r.rows().get(4).extras()).doesNotContainKey("snapshot_bytes");
    // The reader, the scraper, their HTTP threads and the pools' dashboard servers are all gone.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!leftBehind().isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(leftBehind()).isEmpty();
  }

  private static List<String> leftBehind() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(name -> name.startsWith("bench-") || name.startsWith("flotilla-dashboard"))
        .toList();
  }

  @Test
  void aRunWithoutOnlyLeavesOutTheMetricsComparison() {
    assertThat(Catalog.all().values())
        .filteredOn(b -> !b.byDefault())
        .extracting(Benchmark::name)
        .containsExactly("metrics");
    assertThat(new BenchCommand.Names()).contains("metrics");
  }

  @Test
  void unknownWorkloadIsAUsageError() {
    assertThat(bench("--only", "nope").status()).isEqualTo(2);
  }
}
