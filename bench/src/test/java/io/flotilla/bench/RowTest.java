package io.flotilla.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class RowTest {
  @Test
  void standardFieldsComeFirstInTheirOrderThenTheWorkloadsOwn() {
    Row row = Row.of("payload", "process", 2).put("mb_per_s", 25.0).items(256).seconds(2.0);
    assertThat(row.toJson())
        .isEqualTo(
            "{\"workload\":\"payload\",\"executor\":\"process\",\"workers\":2,\"items\":256,\"seconds\":2,"
                + "\"items_per_s\":128,\"mb_per_s\":25}");
  }

  @Test
  void fieldsThatDoNotApplyAreLeftOut() {
    assertThat(Row.of("rss-worker", "process", 2).rssMb(41.5).toJson())
        .isEqualTo(
            "{\"workload\":\"rss-worker\",\"executor\":\"process\",\"workers\":2,\"rss_mb\":41.5}");
    assertThat(Row.of("latency", "thread", 2).items(10).seconds(0.5).latency(16, 184).toJson())
        .contains("\"p50_us\":16,\"p99_us\":184");
  }

  @Test
  void parsesPythonLinesIntoTheSameShape() {
    Row row =
        Row.parse(
            "{\"workload\":\"map1m\",\"executor\":\"python-process\",\"workers\":2,\"items\":1000000,"
                + "\"seconds\":0.813111,\"items_per_s\":1229840.0,\"chunksize\":10000}");
    assertThat(row.workload()).isEqualTo("map1m");
    assertThat(row.executor()).isEqualTo("python-process");
    assertThat(row.number(Row.ITEMS_PER_S)).isEqualTo(1229840.0);
    assertThat(row.number(Row.P50_US)).isNull();
    assertThat(row.extras()).containsOnlyKeys("chunksize");
    assertThat(List.of(row.toJson().split(","))).last().isEqualTo("\"chunksize\":10000}");
  }

  @Test
  void refusesLinesThatAreNotResultsAndStandardKeysAsExtras() {
    assertThatThrownBy(() -> Row.parse("{\"workload\":\"x\"}"))
        .hasMessageContaining("no workload or executor");
    assertThatThrownBy(() -> Row.of("x", "serial", 1).put("seconds", 1.0))
        .hasMessageContaining("standard field");
  }
}
