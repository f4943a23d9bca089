package io.flotilla.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
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
  void unknownWorkloadIsAUsageError() {
    assertThat(bench("--only", "nope").status()).isEqualTo(2);
  }
}
