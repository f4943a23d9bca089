package io.flotilla.cli.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.flotilla.cli.cluster.ChildJvm;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code flotilla top --once} as a process, against a stand-in dashboard on a real socket that
 * serves the contract's snapshot ({@code fleet.json}) to whoever sends its token: what the user is
 * told, and the exit code, for each way of failing. {@link TopCommandTest} runs it against a real
 * coordinator.
 */
class DashboardClientTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final String TOKEN = "s3cret";

  private HttpServer server;
  private final List<String> authorizations = new CopyOnWriteArrayList<>();

  @BeforeEach
  void serve() throws Exception {
    byte[] fleet;
    try (InputStream in = DashboardClientTest.class.getResourceAsStream("fleet.json")) {
      fleet = in.readAllBytes();
    }
    server =
        HttpServer.create(new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/api/fleet",
        exchange -> {
          try (exchange) {
            String auth = exchange.getRequestHeaders().getFirst("Authorization");
            authorizations.add(String.valueOf(auth));
            boolean ok = ("Bearer " + TOKEN).equals(auth);
            byte[] body =
                ok ? fleet : "send a token\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
            if (!ok) {
              exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer");
            }
            exchange.sendResponseHeaders(ok ? 200 : 401, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
              out.write(body);
            }
          }
        });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private String address() {
    return "127.0.0.1:" + server.getAddress().getPort();
  }

  private static ChildJvm top(Map<String, String> env, String dashboard) throws Exception {
    ChildJvm top = new ChildJvm("top", null, env, "top", "--once", "--dashboard", dashboard);
    assertThat(top.waitFor(WAIT)).as(top.output()).isTrue();
    return top;
  }

  @Test
  void theTokenFromTheEnvironmentIsSentAndTheFrameIsPrinted() throws Exception {
    try (ChildJvm top = top(Map.of("FLOTILLA_TOKEN", TOKEN, "COLUMNS", "200"), address())) {
      assertThat(top.process().exitValue()).as(top.output()).isZero();
      assertThat(top.line("coordinator 127.0.0.1:7600 | workers 2 |")).as(top.output()).isNotNull();
      assertThat(top.line("17  local")).as(top.output()).contains("[####......]  45%");
      assertThat(authorizations).containsExactly("Bearer " + TOKEN);
    }
  }

  @Test
  void theClusterSecretIsATokenToo() throws Exception {
    try (ChildJvm top = top(Map.of("FLOTILLA_SECRET", TOKEN), "http://" + address() + "/")) {
      assertThat(top.process().exitValue()).as(top.output()).isZero();
    }
  }

  @Test
  void withoutATokenItSaysToSetOne() throws Exception {
    try (ChildJvm top = top(Map.of(), address())) {
      assertThat(top.process().exitValue()).as(top.output()).isEqualTo(JobExit.UNAUTHENTICATED);
      assertThat(top.output())
          .contains("flotilla top: the dashboard at http://" + address() + " wants a token")
          .contains("FLOTILLA_SECRET or FLOTILLA_TOKEN");
      assertThat(authorizations).containsExactly("null");
    }
  }

  @Test
  void aWrongTokenIsSaidToBeRefused() throws Exception {
    try (ChildJvm top = top(Map.of("FLOTILLA_TOKEN", "wrong"), address())) {
      assertThat(top.process().exitValue()).as(top.output()).isEqualTo(JobExit.UNAUTHENTICATED);
      assertThat(top.output()).contains("refused the token given");
    }
  }

  @Test
  void nobodyListeningIsNoDashboard() throws Exception {
    int port;
    try (ServerSocket free = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = free.getLocalPort();
    }
    try (ChildJvm top = top(Map.of(), "127.0.0.1:" + port)) {
      assertThat(top.process().exitValue()).as(top.output()).isEqualTo(JobExit.UNREACHABLE);
      assertThat(top.output())
          .contains(
              "flotilla top: no dashboard at http://127.0.0.1:"
                  + port
                  + ": is the coordinator running with --dashboard?");
    }
  }

  @Test
  void aServerWithoutTheApiIsNoFlotillaDashboard() throws Exception {
    server.removeContext("/api/fleet");
    try (ChildJvm top = top(Map.of("FLOTILLA_TOKEN", TOKEN), address())) {
      assertThat(top.process().exitValue()).as(top.output()).isEqualTo(JobExit.OTHER);
      assertThat(top.output()).contains("serves no /api/fleet");
    }
  }

  @Test
  void theAddressIsAUrlOrHostAndPortHttpsWithTls() {
    assertThat(DashboardClient.baseUri("10.0.0.5:8787", false))
        .isEqualTo(URI.create("http://10.0.0.5:8787"));
    assertThat(DashboardClient.baseUri("10.0.0.5:8787", true))
        .isEqualTo(URI.create("https://10.0.0.5:8787"));
    assertThat(DashboardClient.baseUri("http://h:1/", true)).isEqualTo(URI.create("http://h:1"));
    assertThat(DashboardClient.baseUri("[::1]:8787", false))
        .isEqualTo(URI.create("http://[::1]:8787"));
    for (String wrong : new String[] {"ftp://h:1", "http://", ":8787"}) {
      assertThatThrownBy(() -> DashboardClient.baseUri(wrong, false))
          .as(wrong)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("--dashboard takes HOST:PORT or http(s)://HOST:PORT");
    }
  }

  @Test
  void theIntervalIsADurationOrSeconds() {
    assertThat(TopLoop.interval("2")).isEqualTo(Duration.ofSeconds(2));
    assertThat(TopLoop.interval("0.5")).isEqualTo(Duration.ofMillis(500));
    assertThat(TopLoop.interval("250ms")).isEqualTo(Duration.ofMillis(250));
    assertThatThrownBy(() -> TopLoop.interval("10ms"))
        .hasMessageContaining("--interval must be 100ms or more");
  }
}
