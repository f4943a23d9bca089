package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A local pool's dashboard, served from the caller's JVM when asked: the same page, data and
 * metrics as a coordinator's, on loopback only, gone with the pool.
 */
class LocalDashboardTest extends PoolTestBase {
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private ProcessPool pool;

  @AfterEach
  void stop() throws Exception {
    Pools.shutDown(pool);
  }

  private HttpResponse<String> get(String url) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aPoolAskedForADashboardServesItsPageDataAndMetricsUntilItCloses() throws Exception {
    pool = Pools.process(ProcessPool.builder().workers(2).dashboard("127.0.0.1:0"));
    String url = pool.dashboardUrl().orElseThrow();
    assertThat(url).matches("http://127\\.0\\.0\\.1:\\d+/");

    List<Integer> items = IntStream.range(0, 5_000).boxed().toList();
    long sum = 0;
    for (int r : pool.map((Integer x) -> x * 2, items)) {
      sum += r;
    }
    assertThat(sum).isEqualTo(5_000L * 4_999);
    var unused = pool.submit(() -> 1).get();

    HttpResponse<String> page = get(url);
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.body()).contains("<html");
    JsonNode fleet =
        await("both workers in the snapshot")
            .atMost(TestTime.LONG)
            .until(
                () -> new ObjectMapper().readTree(get(url + "api/fleet").body()),
                f -> f.path("overview").path("workers").asInt() == 2);
    assertThat(fleet.path("source").asText()).isEqualTo("local pool");
    assertThat(fleet.path("overview").path("items_completed").asLong()).isEqualTo(5_001);
    JsonNode map = null;
    for (JsonNode job : fleet.path("jobs")) {
      if (job.path("kind").asText().equals("map")) {
        map = job;
      }
    }
    assertThat(map).as(fleet.toString()).isNotNull();
    assertThat(map.path("items_total").asLong()).isEqualTo(5_000);
    assertThat(map.path("items_done").asLong()).isEqualTo(5_000);
    assertThat(map.path("client").asText()).isEqualTo("local");
    assertThat(map.path("function").asText()).contains("LocalDashboardTest");

    String metrics = get(url + "metrics").body();
    assertThat(metrics).contains("flotilla_items_completed_total 5001.0");
    assertThat(metrics).contains("flotilla_workers{state=\"ready\"} 2.0");
    // A local pool has no clients, code store or job service.
    assertThat(metrics).doesNotContain("flotilla_clients_connected", "flotilla_service_jobs");

    pool.close();
    assertThatThrownBy(() -> get(url + "api/fleet")).isInstanceOf(java.io.IOException.class);
  }

  @Test
  void aLocalPoolServesItsDashboardOnLoopbackOnly() {
    assertThatThrownBy(() -> ProcessPool.builder().dashboard("0.0.0.0:8787"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("loopback only");
    assertThatThrownBy(() -> ProcessPool.builder().dashboard("127.0.0.1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("HOST:PORT");
    assertThatThrownBy(() -> ProcessPool.builder().dashboard("127.0.0.1:99999"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("HOST:PORT");
  }
}
