package io.flotilla.internal.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Predicate;

/**
 * The coordinator's HTTP page for Prometheus: {@code GET /metrics}, on the JDK's own HTTP server
 * (one more port, no framework). On loopback it is open, as the gRPC port is without a secret; on
 * any other address a request must carry {@code Authorization: Bearer <token>} with the cluster
 * secret or a client token, since the numbers tell an outsider how big the fleet is and how busy.
 */
public final class MetricsEndpoint implements AutoCloseable {
  private final HttpServer server;
  private final ExecutorService executor;

  private MetricsEndpoint(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /**
   * Starts serving.
   *
   * @param address where to listen; port 0 picks a free one
   * @param metrics what to serve
   * @param tokens whether a bearer token is accepted (compared in constant time)
   * @param anyTokens whether any token exists; beyond loopback there must be one
   * @return the running endpoint
   * @throws IOException if the address cannot be bound
   * @throws IllegalArgumentException if asked to listen beyond loopback with no token to require
   */
  public static MetricsEndpoint start(
      InetSocketAddress address,
      ClusterMetrics metrics,
      Predicate<String> tokens,
      boolean anyTokens)
      throws IOException {
    boolean open = address.getAddress() != null && address.getAddress().isLoopbackAddress();
    if (!open && !anyTokens) {
      throw new IllegalArgumentException(
          "refusing to serve metrics on "
              + address
              + " with no cluster secret or client token to require; set FLOTILLA_SECRET, or"
              + " serve them on 127.0.0.1");
    }
    HttpServer server;
    try {
      server = HttpServer.create(address, 0);
    } catch (java.net.BindException e) {
      throw new java.net.BindException(
          "cannot serve metrics on "
              + address.getHostString()
              + ":"
              + address.getPort()
              + ": "
              + e.getMessage()
              + " (--dashboard HOST:PORT chooses another address, --dashboard off serves none)");
    }
    // One thread: a scrape takes milliseconds, and Prometheus scrapes every few seconds at most.
    ExecutorService executor =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "flotilla-metrics-http");
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(executor);
    server.createContext(
        "/metrics",
        exchange -> {
          try (exchange) {
            serve(exchange, metrics, open ? null : tokens);
          }
        });
    server.start();
    return new MetricsEndpoint(server, executor);
  }

  private static void serve(HttpExchange exchange, ClusterMetrics metrics, Predicate<String> tokens)
      throws IOException {
    if (!exchange.getRequestURI().getPath().equals("/metrics")) {
      reply(exchange, 404, "not found\n");
      return;
    }
    if (!exchange.getRequestMethod().equals("GET") && !exchange.getRequestMethod().equals("HEAD")) {
      exchange.getResponseHeaders().set("Allow", "GET, HEAD");
      reply(exchange, 405, "only GET\n");
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
    ByteArrayOutputStream page = new ByteArrayOutputStream(16 << 10);
    metrics.scrape(page);
    exchange.getResponseHeaders().set("Content-Type", ClusterMetrics.CONTENT_TYPE);
    if (exchange.getRequestMethod().equals("HEAD")) {
      exchange.sendResponseHeaders(200, -1);
      return;
    }
    exchange.sendResponseHeaders(200, page.size());
    try (OutputStream body = exchange.getResponseBody()) {
      page.writeTo(body);
    }
  }

  private static boolean authorized(String header, Predicate<String> tokens) {
    return header != null
        && header.regionMatches(true, 0, "Bearer ", 0, 7)
        && tokens.test(header.substring(7).trim());
  }

  private static void reply(HttpExchange exchange, int status, String text) throws IOException {
    byte[] body = text.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
    exchange.sendResponseHeaders(status, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  /**
   * @return the address it listens on, with the port it was given
   */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
