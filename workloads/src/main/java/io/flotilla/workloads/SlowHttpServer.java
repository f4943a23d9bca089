package io.flotilla.workloads;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A loopback HTTP server that answers every request after a fixed delay, standing in for the remote
 * sites of the seeds' download examples without touching the network.
 */
public final class SlowHttpServer implements AutoCloseable {
  private final HttpServer server;
  private final ExecutorService handlers;

  /**
   * Starts the server on an ephemeral loopback port.
   *
   * @param latencyMillis delay before each response: the simulated network and server time
   * @param bodyBytes size of each response body
   */
  public SlowHttpServer(long latencyMillis, int bodyBytes) {
    // Without TCP_NODELAY the JDK server's separate header and body writes meet the client's
    // delayed
    // ACK, and every response waits 40 ms more than the latency asked for.
    System.setProperty("sun.net.httpserver.nodelay", "true");
    byte[] body = new byte[bodyBytes];
    Arrays.fill(body, (byte) 'x');
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 256);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the loopback HTTP server", e);
    }
    // Enough handler threads that the server never limits the clients' concurrency.
    handlers =
        Executors.newFixedThreadPool(
            64,
            r -> {
              Thread t = new Thread(r, "slow-http");
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(handlers);
    server.createContext(
        "/",
        exchange -> {
          try {
            TimeUnit.MILLISECONDS.sleep(latencyMillis);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          exchange.sendResponseHeaders(200, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    server.start();
  }

  /**
   * @param path a path on the server
   * @return its URL
   */
  public String url(String path) {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/" + path;
  }

  @Override
  public void close() {
    server.stop(0);
    handlers.shutdownNow();
  }
}
