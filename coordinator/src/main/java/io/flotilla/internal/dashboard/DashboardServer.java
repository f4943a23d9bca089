package io.flotilla.internal.dashboard;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.flotilla.internal.metrics.PoolMetrics;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A pool's HTTP port, on the JDK's own HTTP server: the dashboard page and its assets from the jar
 * ({@code /}, {@code /assets/...}), the fleet's snapshot as JSON ({@code /api/fleet}) and as a live
 * stream of Server-Sent Events, one a second ({@code /api/events}), and Prometheus' {@code
 * /metrics}. Read-only: it answers GET and HEAD only.
 *
 * <p>On loopback it is open, as the gRPC port is without a secret. On any other address everything
 * but the page itself needs {@code Authorization: Bearer <token>} with the cluster secret or a
 * client token (the page asks for it once), since the numbers tell an outsider how big the fleet is
 * and what it runs; with TLS files it speaks HTTPS.
 *
 * <p>One thread builds the snapshot each second, whoever watches: {@link FleetWatch#tick} is its
 * only caller, so the rate history moves at one pace. Each open event stream holds one of the
 * server's threads (at most {@link #MAX_STREAMS}); a slow reader is dropped rather than buffered.
 */
public final class DashboardServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DashboardServer.class);

  /** Open event streams at most; one more is refused with 503. */
  static final int MAX_STREAMS = 16;

  private static final Map<String, String> TYPES =
      Map.of(
          "html", "text/html; charset=utf-8",
          "js", "text/javascript; charset=utf-8",
          "css", "text/css; charset=utf-8",
          "svg", "image/svg+xml",
          "png", "image/png",
          "ico", "image/x-icon");

  private final HttpServer server;
  private final ExecutorService executor;
  private final ScheduledExecutorService ticker;
  private final String scheme;
  private final Object latestLock = new Object();
  private String latest; // guarded by latestLock
  private long version; // guarded by latestLock
  private boolean closed; // guarded by latestLock
  private int streams; // guarded by latestLock

  private DashboardServer(HttpServer server, ExecutorService executor, String scheme) {
    this.server = server;
    this.executor = executor;
    this.scheme = scheme;
    this.ticker =
        java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "flotilla-dashboard-tick");
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Starts serving.
   *
   * @param address where to listen; port 0 picks a free one
   * @param watch the fleet to show
   * @param metrics what {@code /metrics} serves
   * @param tokens whether a bearer token is accepted (compared in constant time)
   * @param anyTokens whether any token exists; beyond loopback there must be one
   * @param tls TLS for the port, or {@code null} for plain HTTP
   * @return the running server
   * @throws IOException if the address cannot be bound
   * @throws IllegalArgumentException if asked to listen beyond loopback with no token to require
   */
  public static DashboardServer start(
      InetSocketAddress address,
      FleetWatch watch,
      PoolMetrics metrics,
      Predicate<String> tokens,
      boolean anyTokens,
      SSLContext tls)
      throws IOException {
    boolean open = address.getAddress() != null && address.getAddress().isLoopbackAddress();
    if (!open && !anyTokens) {
      throw new IllegalArgumentException(
          "refusing to serve the dashboard and metrics on "
              + address
              + " with no cluster secret or client token to require; set FLOTILLA_SECRET, or"
              + " serve them on 127.0.0.1");
    }
    HttpServer server;
    try {
      if (tls != null) {
        HttpsServer https = HttpsServer.create(address, 0);
        https.setHttpsConfigurator(new HttpsConfigurator(tls));
        server = https;
      } else {
        server = HttpServer.create(address, 0);
      }
    } catch (java.net.BindException e) {
      throw new java.net.BindException(
          "cannot serve the dashboard on "
              + address.getHostString()
              + ":"
              + address.getPort()
              + ": "
              + e.getMessage()
              + " (--dashboard HOST:PORT chooses another address, --dashboard off serves none)");
    }
    // Requests are short but event streams are long: a thread each, up to a bound; one more than
    // the bound is refused at once instead of queued behind streams that never end.
    ThreadPoolExecutor executor =
        new ThreadPoolExecutor(
            1,
            MAX_STREAMS + 4,
            30,
            TimeUnit.SECONDS,
            new SynchronousQueue<>(),
            r -> {
              Thread t = new Thread(r, "flotilla-dashboard-http");
              t.setDaemon(true);
              return t;
            },
            new ThreadPoolExecutor.AbortPolicy());
    server.setExecutor(executor);
    DashboardServer dashboard =
        new DashboardServer(server, executor, tls != null ? "https" : "http");
    Predicate<String> required = open ? null : tokens;
    server.createContext(
        "/",
        exchange -> {
          try (exchange) {
            dashboard.serve(exchange, watch, metrics, required);
          } catch (IOException | RuntimeException e) {
            // A reader that went away mid-answer; nothing to tell anyone.
            log.debug("dashboard request {} ended: {}", exchange.getRequestURI(), e.toString());
          }
        });
    dashboard.publish(watch);
    var unused =
        dashboard.ticker.scheduleAtFixedRate(
            () -> dashboard.publish(watch), 1, 1, TimeUnit.SECONDS);
    server.start();
    return dashboard;
  }

  private void publish(FleetWatch watch) {
    String snapshot;
    try {
      snapshot = watch.tick();
    } catch (RuntimeException e) {
      log.warn("could not gather the dashboard's data", e);
      return;
    }
    synchronized (latestLock) {
      latest = snapshot;
      version++;
      latestLock.notifyAll();
    }
  }

  private void serve(
      HttpExchange exchange, FleetWatch watch, PoolMetrics metrics, Predicate<String> tokens)
      throws IOException {
    String method = exchange.getRequestMethod();
    exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    if (!method.equals("GET") && !method.equals("HEAD")) {
      exchange.getResponseHeaders().set("Allow", "GET, HEAD");
      reply(exchange, 405, "read-only: only GET and HEAD\n");
      return;
    }
    String path = exchange.getRequestURI().getPath();
    if (path.equals("/") || path.equals("/index.html")) {
      asset(exchange, "index.html");
      return;
    }
    if (path.startsWith("/assets/")) {
      asset(exchange, path.substring("/assets/".length()));
      return;
    }
    if (!path.equals("/metrics") && !path.equals("/api/fleet") && !path.equals("/api/events")) {
      reply(exchange, 404, "not found\n");
      return;
    }
    if (tokens != null
        && !authorized(exchange.getRequestHeaders().getFirst("Authorization"), tokens)) {
      exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer");
      reply(
          exchange,
          401,
          "send 'Authorization: Bearer <token>' with the cluster secret or a client token\n");
      return;
    }
    switch (path) {
      case "/metrics" -> {
        ByteArrayOutputStream page = new ByteArrayOutputStream(32 << 10);
        metrics.scrape(page);
        send(exchange, 200, PoolMetrics.CONTENT_TYPE, page.toByteArray());
      }
      case "/api/fleet" ->
          send(
              exchange, 200, "application/json", watch.snapshot().getBytes(StandardCharsets.UTF_8));
      default -> events(exchange);
    }
  }

  /** Sends each snapshot as it is made, until the reader goes or the server stops. */
  private void events(HttpExchange exchange) throws IOException {
    synchronized (latestLock) {
      if (streams >= MAX_STREAMS) {
        reply(exchange, 503, "too many dashboards open here; close one\n");
        return;
      }
      streams++;
    }
    try {
      exchange.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
      exchange.sendResponseHeaders(200, 0);
      if (exchange.getRequestMethod().equals("HEAD")) {
        return;
      }
      OutputStream body = exchange.getResponseBody();
      long seen = -1;
      while (true) {
        String snapshot;
        synchronized (latestLock) {
          while (version == seen && !closed) {
            try {
              latestLock.wait();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              return;
            }
          }
          if (closed) {
            return;
          }
          seen = version;
          snapshot = latest;
        }
        // A reader too slow to take a snapshot a second blocks only its own thread here, and is
        // dropped when its connection fails.
        body.write(("event: fleet\ndata: " + snapshot + "\n\n").getBytes(StandardCharsets.UTF_8));
        body.flush();
      }
    } finally {
      synchronized (latestLock) {
        streams--;
      }
    }
  }

  private void asset(HttpExchange exchange, String name) throws IOException {
    if (!name.matches("[A-Za-z0-9_.-]+") || name.startsWith(".")) {
      reply(exchange, 404, "not found\n");
      return;
    }
    byte[] body;
    try (InputStream in =
        DashboardServer.class.getResourceAsStream("/io/flotilla/dashboard/" + name)) {
      if (in == null) {
        reply(exchange, 404, "not found\n");
        return;
      }
      body = in.readAllBytes();
    }
    String type =
        TYPES.getOrDefault(name.substring(name.lastIndexOf('.') + 1), "application/octet-stream");
    if (name.endsWith(".html")) {
      // The page runs only its own scripts and talks only to this server.
      exchange
          .getResponseHeaders()
          .set(
              "Content-Security-Policy",
              "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self';"
                  + " connect-src 'self'; frame-ancestors 'none'");
    }
    send(exchange, 200, type, body);
  }

  private static boolean authorized(String header, Predicate<String> tokens) {
    return header != null
        && header.regionMatches(true, 0, "Bearer ", 0, 7)
        && tokens.test(header.substring(7).trim());
  }

  private static void send(HttpExchange exchange, int status, String type, byte[] body)
      throws IOException {
    exchange.getResponseHeaders().set("Content-Type", type);
    if (exchange.getRequestMethod().equals("HEAD")) {
      exchange.sendResponseHeaders(status, -1);
      return;
    }
    exchange.sendResponseHeaders(status, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  private static void reply(HttpExchange exchange, int status, String text) throws IOException {
    send(exchange, status, "text/plain; charset=utf-8", text.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * @return the address it listens on, with the port it was given
   */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  /**
   * @return the page's address, e.g. {@code http://127.0.0.1:8787/}
   */
  public String url() {
    InetSocketAddress at = address();
    String host = at.getAddress().getHostAddress();
    if (at.getAddress().isAnyLocalAddress()) {
      host = "127.0.0.1";
    } else if (host.contains(":")) {
      host = "[" + host + "]";
    }
    return scheme + "://" + host + ":" + at.getPort() + "/";
  }

  @Override
  public void close() {
    ticker.shutdownNow();
    synchronized (latestLock) {
      closed = true;
      latestLock.notifyAll();
    }
    server.stop(0);
    executor.shutdownNow();
  }
}
