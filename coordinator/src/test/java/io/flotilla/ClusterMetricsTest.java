package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.internal.server.CoordinatorServer;
import io.flotilla.testing.Requirements;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The coordinator's {@code /metrics} page, read over real HTTP as Prometheus reads it: what a map
 * through real joined workers adds up to, and who may read it.
 */
@FlotillaTest
class ClusterMetricsTest {
  @TempDir Path dir;

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  @Test
  void aMapOfTenThousandItemsThroughTwoWorkersIsCountedItemByItem() throws Exception {
    try (RemoteWorkers cluster = new RemoteWorkers(dir)) {
      cluster.addWorker();
      cluster.addWorker();
      ClusterPool pool = cluster.connect();
      try {
        await("two workers joined").atMost(TestTime.LONG).until(() -> pool.workers() == 2);
        List<Integer> items = IntStream.range(0, 10_000).boxed().toList();
        long sum = 0;
        for (int r : pool.map((Integer x) -> x + 1, items)) {
          sum += r;
        }
        assertThat(sum).isEqualTo(10_000L * 10_001 / 2);

        // Each worker's resources come with its samples, a second apart.
        await("the workers' first samples")
            .atMost(TestTime.LONG)
            .until(
                () ->
                    get(cluster.server().metricsAddress(), null)
                            .body()
                            .split("flotilla_worker_resident_memory_bytes\\{", -1)
                            .length
                        == 3);
        HttpResponse<String> page = get(cluster.server().metricsAddress(), null);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Type"))
            .hasValueSatisfying(t -> assertThat(t).startsWith("text/plain; version=0.0.4"));
        String text = page.body();
        assertThat(value(text, "flotilla_items_completed_total")).as(text).isEqualTo(10_000);
        assertThat(value(text, "flotilla_items_failed_total")).as(text).isZero();
        assertThat(value(text, "flotilla_workers{state=\"ready\"}")).as(text).isEqualTo(2);
        assertThat(value(text, "flotilla_worker_threads{state=\"busy\"}")).as(text).isZero();
        assertThat(value(text, "flotilla_worker_threads{state=\"idle\"}")).as(text).isEqualTo(2);
        assertThat(value(text, "flotilla_clients_connected")).as(text).isEqualTo(1);
        assertThat(value(text, "flotilla_queue_chunks")).as(text).isZero();
        double dispatched = value(text, "flotilla_chunks_dispatched_total");
        assertThat(dispatched).as(text).isPositive();
        // Every chunk sent came back whole, or was handed back to run elsewhere (work stealing).
        assertThat(
                value(text, "flotilla_chunks_completed_total")
                    + value(text, "flotilla_chunks_requeued_total"))
            .as(text)
            .isLessThanOrEqualTo(dispatched);
        assertThat(value(text, "flotilla_worker_losses_total{cause=\"crashed\"}"))
            .as(text)
            .isZero();
        assertThat(text).contains("jvm_memory_used_bytes", "process_uptime_seconds");
        everyFlotillaFamilyIsDescribed(text);

        JsonNode fleet = json(get(cluster.server().metricsAddress(), "/api/fleet", null).body());
        assertThat(fleet.path("overview").path("workers").asInt()).isEqualTo(2);
        assertThat(fleet.path("overview").path("items_completed").asLong()).isEqualTo(10_000);
        JsonNode job = fleet.path("jobs").get(0);
        assertThat(job.path("kind").asText()).isEqualTo("map");
        assertThat(job.path("items_total").asLong()).isEqualTo(10_000);
        assertThat(job.path("items_done").asLong()).isEqualTo(10_000);
        assertThat(job.path("function").asText()).contains("ClusterMetricsTest");
        assertThat(fleet.path("tasks").path("spans").size()).isPositive();
        for (JsonNode w : fleet.path("workers")) {
          assertThat(w.path("state").asText()).isEqualTo("ready");
          assertThat(w.path("heap_used_bytes").asLong()).isPositive();
          assertThat(w.path("rss_bytes").asLong()).isPositive();
        }
        // The live stream: a snapshot at once, then one a second.
        InetSocketAddress at = cluster.server().metricsAddress();
        HttpResponse<java.util.stream.Stream<String>> events =
            http.send(
                HttpRequest.newBuilder(
                        URI.create(
                            "http://"
                                + at.getAddress().getHostAddress()
                                + ":"
                                + at.getPort()
                                + "/api/events"))
                    .timeout(Duration.ofSeconds(30))
                    .build(),
                HttpResponse.BodyHandlers.ofLines());
        assertThat(events.headers().firstValue("Content-Type"))
            .hasValueSatisfying(t -> assertThat(t).startsWith("text/event-stream"));
        try (java.util.stream.Stream<String> lines = events.body()) {
          List<String> frames =
              lines.filter(l -> l.startsWith("data: ")).limit(2).map(l -> l.substring(6)).toList();
          assertThat(frames).hasSize(2);
          assertThat(json(frames.get(1)).path("now_ms").asLong())
              .isGreaterThan(json(frames.get(0)).path("now_ms").asLong());
        }
        // The snapshot holds counts and names, never a value an item had.
        assertThat(fleet.toString()).doesNotContain(RemoteWorkers.SECRET);

        // Last: where Python's Prometheus client is missing, this skips only itself.
        readByPrometheusParser(text);
      } finally {
        Pools.shutDown(pool);
      }
    }
  }

  @Test
  void beyondLoopbackAScrapeNeedsTheSecretOrAClientToken() throws Exception {
    InetAddress outward = nonLoopbackAddress();
    Assumptions.assumeTrue(
        outward != null,
        "this machine has no non-loopback IPv4 address to serve metrics on; the token check is"
            + " untested here");
    try (CoordinatorServer server =
        CoordinatorServer.start(
            settings(
                RemoteWorkers.SECRET,
                java.util.Map.of("client-token-1", "alice"),
                new InetSocketAddress(outward, 0)))) {
      InetSocketAddress at = server.metricsAddress();
      assertThat(at.getAddress()).isEqualTo(outward);
      assertThat(get(at, null).statusCode()).isEqualTo(401);
      assertThat(get(at, "Bearer not-a-token").statusCode()).isEqualTo(401);
      assertThat(get(at, "Basic " + RemoteWorkers.SECRET).statusCode()).isEqualTo(401);
      HttpResponse<String> withSecret = get(at, "Bearer " + RemoteWorkers.SECRET);
      assertThat(withSecret.statusCode()).isEqualTo(200);
      assertThat(withSecret.body()).contains("flotilla_workers");
      assertThat(get(at, "Bearer client-token-1").statusCode()).isEqualTo(200);
      // The page itself is open (it asks for the token); what it shows is not.
      assertThat(get(at, "/", null).statusCode()).isEqualTo(200);
      assertThat(get(at, "/api/fleet", null).statusCode()).isEqualTo(401);
      assertThat(get(at, "/api/events", null).statusCode()).isEqualTo(401);
      HttpResponse<String> fleet = get(at, "/api/fleet", "Bearer client-token-1");
      assertThat(fleet.statusCode()).isEqualTo(200);
      assertThat(fleet.body()).doesNotContain(RemoteWorkers.SECRET, "client-token-1");
    }
  }

  @Test
  void itWillNotServeMetricsBeyondLoopbackWithNoTokenToAskFor() {
    InetAddress outward = nonLoopbackAddress();
    Assumptions.assumeTrue(
        outward != null, "this machine has no non-loopback IPv4 address to try to serve on");
    assertThatThrownBy(
            () ->
                CoordinatorServer.start(
                    settings("", java.util.Map.of(), new InetSocketAddress(outward, 0))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("refusing to serve the dashboard and metrics");
  }

  private CoordinatorServer.Settings settings(
      String secret, java.util.Map<String, String> tokens, InetSocketAddress metrics) {
    return new CoordinatorServer.Settings(
        "127.0.0.1",
        0,
        0,
        null,
        secret,
        dir.resolve("data"),
        3,
        Duration.ofSeconds(3),
        null,
        com.typesafe.config.ConfigFactory.empty(),
        tokens,
        io.flotilla.internal.jobs.JobLimits.DEFAULT,
        CoordinatorServer.Settings.DEFAULT_NO_WORKERS_TIMEOUT,
        metrics);
  }

  private HttpResponse<String> get(InetSocketAddress at, String authorization) throws Exception {
    return get(at, "/metrics", authorization);
  }

  private static JsonNode json(String text) throws Exception {
    return new ObjectMapper().readTree(text);
  }

  /**
   * Prometheus' own Python client reads the page as Prometheus would: every family parses, has a
   * type and help, and the counts come out the same.
   */
  private void readByPrometheusParser(String page) throws Exception {
    Requirements.require(
        Requirements.runs(List.of("/usr/bin/python3", "-c", "import prometheus_client.parser")),
        "/usr/bin/python3 with the prometheus_client module",
        "apt-get install python3-prometheus-client");
    Path text = dir.resolve("metrics.txt");
    Files.writeString(text, page);
    String script =
        """
        import json, sys
        from prometheus_client.parser import text_string_to_metric_families
        out = {}
        for f in text_string_to_metric_families(open(sys.argv[1]).read()):
            out[f.name] = {'type': f.type, 'help': f.documentation,
                'samples': [[s.name, s.labels, s.value] for s in f.samples]}
        print(json.dumps(out))
        """;
    String parsed = Requirements.output(List.of("/usr/bin/python3", "-c", script, text.toString()));
    JsonNode families = json(parsed);
    assertThat(families.path("flotilla_items_completed").path("type").asText())
        .isEqualTo("counter");
    assertThat(families.path("flotilla_items_completed").path("samples").get(0).get(2).asDouble())
        .isEqualTo(10_000);
    boolean twoReady = false;
    for (JsonNode sample : families.path("flotilla_workers").path("samples")) {
      twoReady |=
          sample.get(1).path("state").asText().equals("ready") && sample.get(2).asDouble() == 2;
    }
    assertThat(twoReady).as(parsed).isTrue();
    assertThat(families.path("flotilla_chunk_round_trip_seconds").path("type").asText())
        .isEqualTo("histogram");
    families
        .fieldNames()
        .forEachRemaining(
            name -> {
              if (name.startsWith("flotilla_")) {
                JsonNode f = families.path(name);
                assertThat(f.path("type").asText()).as(name).isNotEqualTo("unknown");
                assertThat(f.path("help").asText()).as(name).isNotBlank();
              }
            });
  }

  private HttpResponse<String> get(InetSocketAddress at, String path, String authorization)
      throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(
                URI.create(
                    "http://" + at.getAddress().getHostAddress() + ":" + at.getPort() + path))
            .timeout(Duration.ofSeconds(30))
            .GET();
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * The value of the one sample named so, labels and all, e.g. {@code a_total} or {@code a{b="c"}}.
   */
  private static double value(String page, String sample) {
    for (String line : page.split("\n")) {
      if (line.startsWith(sample + " ")) {
        return Double.parseDouble(line.substring(sample.length() + 1).trim());
      }
    }
    throw new AssertionError("no sample " + sample + " in:\n" + page);
  }

  /** Prometheus shows a family's help and type only if the page gives them. */
  private static void everyFlotillaFamilyIsDescribed(String page) {
    Set<String> help = new HashSet<>();
    Set<String> type = new HashSet<>();
    Set<String> sampled = new HashSet<>();
    for (String line : page.split("\n")) {
      if (line.startsWith("# HELP ")) {
        help.add(line.split(" ")[2]);
      } else if (line.startsWith("# TYPE ")) {
        type.add(line.split(" ")[2]);
      } else if (line.startsWith("flotilla_")) {
        sampled.add(line.split("[{ ]")[0]);
      }
    }
    assertThat(sampled)
        .contains(
            "flotilla_workers",
            "flotilla_worker_threads",
            "flotilla_queue_chunks",
            "flotilla_clients_connected",
            "flotilla_items_dispatched_total",
            "flotilla_items_completed_total",
            "flotilla_items_failed_total",
            "flotilla_items_retried_total",
            "flotilla_items_cancelled_total",
            "flotilla_chunks_dispatched_total",
            "flotilla_chunks_completed_total",
            "flotilla_chunks_failed_total",
            "flotilla_chunks_cancelled_total",
            "flotilla_chunks_requeued_total",
            "flotilla_chunk_round_trip_seconds_bucket",
            "flotilla_payload_sent_bytes_total",
            "flotilla_payload_received_bytes_total",
            "flotilla_worker_losses_total",
            "flotilla_code_fetches_total",
            "flotilla_service_jobs",
            "flotilla_worker_heap_used_bytes",
            "flotilla_worker_resident_memory_bytes",
            "flotilla_worker_last_heard_seconds");
    for (String family : sampled) {
      family = family.replaceAll("_(bucket|count|sum)$", "");
      assertThat(help).as("# HELP of " + family + " in:\n" + page).contains(family);
      assertThat(type).as("# TYPE of " + family + " in:\n" + page).contains(family);
    }
  }

  /**
   * @return an IPv4 address of this machine's that is not loopback, or null
   */
  private static InetAddress nonLoopbackAddress() {
    try {
      for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        if (nic.isUp() && !nic.isLoopback()) {
          for (InetAddress a : Collections.list(nic.getInetAddresses())) {
            if (a instanceof Inet4Address && !a.isLoopbackAddress()) {
              return a;
            }
          }
        }
      }
    } catch (java.net.SocketException e) {
      return null;
    }
    return null;
  }
}
