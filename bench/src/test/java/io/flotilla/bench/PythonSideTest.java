package io.flotilla.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.testing.Requirements;
import io.flotilla.workloads.TextCorpus;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The Python script shipped in the jar runs and prints rows in the harness's format (skipped where
 * no python3 is on the PATH, and failed for that under CI=true: see {@link Requirements}).
 */
@Timeout(120)
class PythonSideTest {
  private static PythonSide python;

  @BeforeAll
  static void findPython() {
    python = PythonSide.find("python3").orElse(null);
  }

  @AfterAll
  static void close() {
    if (python != null) {
      python.close();
    }
  }

  private static List<Row> run(String... args) throws Exception {
    Requirements.require(
        python != null,
        "python3 on the PATH that runs the bench's script",
        "apt-get install python3");
    List<Row> rows = new ArrayList<>();
    python.run(List.of(args), rows::add);
    return rows;
  }

  @Test
  void mapRowsCarryTheStandardFieldsAndTheChunksize() throws Exception {
    List<Row> rows =
        run("primes", "--workers", "2", "--items", "50", "--reps", "1", "--warmups", "0");
    assertThat(rows).hasSize(1);
    assertThat(rows.get(0).toJson())
        .startsWith(
            "{\"workload\":\"primes\",\"executor\":\"python-process\",\"workers\":2,\"items\":50,\"seconds\":")
        .contains("\"items_per_s\":")
        .endsWith(",\"chunksize\":1}");
    assertThat(python.version()).matches("3\\.\\d+\\.\\d+.*");
  }

  @Test
  void wordCountsReadTheFilesTheyAreGiven() throws Exception {
    try (TextCorpus corpus = new TextCorpus(2, 50)) {
      List<String> args = new ArrayList<>(List.of("wordcount-lines", "--workers", "2", "--files"));
      args.addAll(corpus.files());
      args.addAll(List.of("--reps", "1"));
      List<Row> rows = run(args.toArray(String[]::new));
      assertThat(rows)
          .singleElement()
          .satisfies(r -> assertThat(r.number(Row.ITEMS)).isEqualTo(100.0));
    }
  }

  @Test
  void latencyHasPercentilesAndRssHasMegabytes() throws Exception {
    Row latency = run("latency", "--workers", "2", "--items", "20", "--warmups", "2").get(0);
    assertThat(latency.number(Row.P50_US)).isPositive();
    assertThat(latency.number(Row.P99_US)).isGreaterThanOrEqualTo(latency.number(Row.P50_US));
    Requirements.require(
        Rss.available(), "/proc to read a process's resident memory", "run the tests on Linux");
    List<Row> rss = run("rss", "--workers", "2");
    assertThat(rss).extracting(Row::workload).containsExactly("rss-worker", "rss-coordinator");
    assertThat(rss).allSatisfy(r -> assertThat(r.number(Row.RSS_MB)).isPositive());
  }
}
