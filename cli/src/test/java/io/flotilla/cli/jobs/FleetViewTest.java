package io.flotilla.cli.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.InputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What {@code flotilla top} draws from one snapshot of {@code GET /api/fleet}, without a
 * coordinator: {@code fleet.json} follows the dashboard API's contract (three workers, one of them
 * lost; a job of known size, an open-ended one and a finished one; two failures). {@link
 * TopCommandTest} runs the command against a real coordinator.
 */
class FleetViewTest {
  static JsonNode fixture() throws Exception {
    try (InputStream in = FleetViewTest.class.getResourceAsStream("fleet.json")) {
      return new ObjectMapper().readTree(in);
    }
  }

  @Test
  void aWideTerminalShowsEverythingUncut() throws Exception {
    assertThat(FleetView.render(fixture(), 120, 0))
        .containsExactly(
            "coordinator 127.0.0.1:7600 | workers 2 | threads 3/4 busy | 1235 items/s | queue 10 |"
                + " done 12345 | failed 2 | clients 1",
            "",
            "WORKERS: 2 up, 1 lost",
            "HOST                                    PID  THREADS  BUSY  DONE  LOSSES       HEAP "
                + "  RSS   CPU     HEARD  STATE",
            "node-a                                12345        2     1  5000       0   30M/256M "
                + "  86M  0.93  0.2s ago  ready",
            "node-b.a-rather-long-domain-name.ex~    777        2     2  7345       1          - "
                + "    -     -   12s ago  ready",
            "node-c                                 4242        2     0    12       0  1.4G/2.0G "
                + " 1.9G  0.00    5m ago  lost (killed)",
            "",
            "JOBS: 2 running, 1 ended",
            "ID  CLIENT                FUNCTION      PROGRESS           ITEMS/S  ETA  FAILED  STATE",
            "17  local                 Demo::lambda  [####......]  45%      950   6s     500  running",
            "18  alice@10.0.0.7:51234  isprime       321 done              12.3    -       0  running",
            "12  local                 Demo::square  [##########] 100%        -    -       0  done",
            "",
            "FAILURES: the newest 2 of 2",
            "0.5s ago  job 17 on node-a  Demo::lambda: java.lang.ArithmeticException: / by zero",
            " 10s ago  job 17 on node-b  Demo::lambda: java.lang.IllegalStateException: first");
  }

  @Test
  void aNarrowTerminalNarrowsTheTextColumnsFirstAndCutsEveryLineToItsWidth() throws Exception {
    List<String> lines = FleetView.render(fixture(), 70, 0);
    assertThat(lines).allSatisfy(l -> assertThat(l.length()).isLessThanOrEqualTo(70));
    assertThat(lines.get(0)).hasSize(70).endsWith("~");
    assertThat(lines)
        .contains("17  local   Demo::l~  [####......]  45%      950   6s     500  running");
  }

  @Test
  void aShortTerminalShowsFewerRowsAndSaysHowManyMore() throws Exception {
    ObjectNode fleet = (ObjectNode) fixture();
    var workers = fleet.withArray("workers");
    for (int i = 0; i < 20; i++) {
      workers.add(workers.get(0).deepCopy());
    }
    List<String> lines = FleetView.render(fleet, 120, 20);
    assertThat(lines).hasSize(20);
    // 23 workers in 7 rows: 6 of them, and one saying how many are left out.
    assertThat(lines).contains("... 17 more", "FAILURES: the newest 1 of 2");
    assertThat(lines).anyMatch(l -> l.startsWith("12  local"));
  }

  @Test
  void anEmptyClusterSaysHowWorkersJoin() throws Exception {
    JsonNode empty =
        new ObjectMapper()
            .readTree(
                "{\"api\":1,\"now_ms\":1,\"source\":\"local pool\",\"name\":\"ProcessPool-1 (0"
                    + " workers)\",\"overview\":{},\"workers\":[],\"jobs\":[],\"failures\":[]}");
    assertThat(FleetView.render(empty, 140, 0))
        .containsExactly(
            "local pool ProcessPool-1 (0 workers) | workers 0 | threads 0/0 busy | - items/s |"
                + " queue 0 | done 0 | failed 0 | clients 0",
            "",
            "WORKERS: 0 up (workers join with: flotilla worker --join HOST:PORT)",
            "HOST  PID  THREADS  BUSY  DONE  LOSSES  HEAP  RSS  CPU  HEARD  STATE",
            "",
            "JOBS: 0 running, 0 ended",
            "ID  CLIENT  FUNCTION  PROGRESS  ITEMS/S  ETA  FAILED  STATE",
            "",
            "FAILURES: none");
  }

  @Test
  void valuesAreWrittenShort() throws Exception {
    ObjectMapper json = new ObjectMapper();
    assertThat(FleetView.eta(json.readTree("6.3"))).isEqualTo("6s");
    assertThat(FleetView.eta(json.readTree("125"))).isEqualTo("2m05s");
    assertThat(FleetView.eta(json.readTree("3725"))).isEqualTo("1h02m");
    assertThat(FleetView.eta(json.readTree("null"))).isEqualTo("-");
    assertThat(FleetView.bytes(json.readTree("512"))).isEqualTo("512B");
    assertThat(FleetView.bytes(json.readTree("1610612736"))).isEqualTo("1.5G");
    assertThat(FleetView.ago(json.readTree("1000"), 8_201_000)).isEqualTo("2h ago");
    assertThat(
            FleetView.progress(
                json.readTree("{\"items_total\":0,\"items_done\":0,\"items_failed\":0}")))
        .isEqualTo("[##########] 100%");
  }
}
