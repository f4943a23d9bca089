package io.flotilla.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReportTest {
  private final Row serial = Row.of("hash", "serial", 1).items(20).seconds(3.0);
  private final Row process = Row.of("hash", "process", 2).items(20).seconds(1.5);
  private final Row python = Row.of("hash", "python-process", 2).items(20).seconds(1.2);
  private final Row latencyProcess =
      Row.of("latency", "process", 2).items(100).seconds(0.1).latency(300, 900);
  private final Row latencyPython =
      Row.of("latency", "python-process", 2).items(100).seconds(0.02).latency(150, 300);
  private final Row rssProcess = Row.of("rss-worker", "process", 2).rssMb(40);
  private final Row rssPython = Row.of("rss-worker", "python-process", 2).rssMb(20);
  private final Row startup = Row.of("startup", "process", 2).seconds(0.5);
  private final Row startupPython = Row.of("startup", "python-process", 2).seconds(0.05);
  private final List<Row> rows =
      List.of(
          serial,
          process,
          python,
          latencyProcess,
          latencyPython,
          rssProcess,
          rssPython,
          startup,
          startupPython);

  @Test
  void poolRowsAreComparedWithTheSerialLoop() {
    assertThat(Report.ratio(serial, rows)).isEqualTo("1.00x");
    assertThat(Report.ratio(process, rows)).isEqualTo("2.00x");
    assertThat(Report.ratio(latencyProcess, rows)).isEmpty();
  }

  @Test
  void pythonRowsSayHowManyTimesBetterFlotillasProcessRowIs() {
    assertThat(Report.ratio(python, rows)).as("items/s").isEqualTo("0.80x");
    assertThat(Report.ratio(latencyPython, rows)).as("p50 before items/s").isEqualTo("0.50x");
    assertThat(Report.ratio(rssPython, rows)).as("memory: less is better").isEqualTo("0.50x");
    assertThat(Report.ratio(startupPython, rows)).as("seconds").isEqualTo("0.10x");
    assertThat(Report.ratio(Row.of("primes", "python-process", 2).seconds(1), rows)).isEmpty();
  }

  @Test
  void aRowWithItsOwnRatioShowsItInTheRatioColumnNotAmongTheNotes() {
    Row watched =
        Row.of("metrics-map1m", "process+metrics+watched", 2)
            .items(1_000_000)
            .seconds(1.0)
            .put("vs_off", 0.9834)
            .put("snapshot_bytes", 41_000L);
    assertThat(Report.ratio(watched, rows)).isEqualTo("0.98x");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    Report.print(new PrintStream(bytes, true, StandardCharsets.UTF_8), List.of(watched));
    String line = bytes.toString(StandardCharsets.UTF_8).lines().toList().get(1);
    assertThat(line).contains("process+metrics+watched", "0.98x", "snapshot_bytes=41000");
    assertThat(line).doesNotContain("vs_off");
  }

  @Test
  void tableHasAHeaderALinePerRowAndTheWorkloadsOwnFieldsAsNotes() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    Report.print(
        new PrintStream(bytes, true, StandardCharsets.UTF_8),
        List.of(serial, python.put("chunksize", 1L)));
    List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
    assertThat(lines.get(0)).startsWith("workload").contains("items/s", "p50 µs", "ratio");
    assertThat(lines.get(1)).startsWith("hash").contains("serial", "3.00", "1.00x");
    assertThat(lines.get(2)).contains("python-process", "chunksize=1");
  }
}
