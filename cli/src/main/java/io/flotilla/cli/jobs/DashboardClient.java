package io.flotilla.cli.jobs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

/**
 * Reads a coordinator's dashboard API over HTTP: {@code GET /api/fleet}, with the token as {@code
 * Authorization: Bearer}, over HTTPS trusting the cluster's {@code ca.crt} when given a TLS
 * directory. Every way it can fail becomes a {@link Failure} with one line for the user and the job
 * commands' exit code for it ({@link JobExit}).
 *
 * <p>Not thread-safe: one command's loop uses it.
 */
final class DashboardClient {
  /** The dashboard's default address, the coordinator's --dashboard default: HTTPS with TLS. */
  static final String DEFAULT = "127.0.0.1:8787";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final URI base;
  private final String token;
  private final Duration timeout;
  private final HttpClient http;

  /**
   * @param base the dashboard, e.g. {@code http://127.0.0.1:8787}
   * @param token sent as a bearer token; empty to send none
   * @param tlsDir a directory holding the cluster's {@code ca.crt}, trusted for HTTPS; or null for
   *     the JDK's own trusted authorities
   * @param timeout how long connecting, and then the answer, may take
   * @throws IllegalArgumentException if the authority cannot be read
   */
  DashboardClient(URI base, String token, Path tlsDir, Duration timeout) {
    this.base = base;
    this.token = token;
    this.timeout = timeout;
    HttpClient.Builder builder =
        HttpClient.newBuilder()
            // The coordinator's server speaks HTTP/1.1; asking it to upgrade would only cost time.
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(timeout)
            .followRedirects(HttpClient.Redirect.NEVER);
    if (tlsDir != null) {
      builder.sslContext(trusting(tlsDir.resolve("ca.crt")));
    }
    this.http = builder.build();
  }

  /**
   * Where the dashboard is: a URL as given, or {@code HOST:PORT} as the coordinator's {@code
   * --dashboard} takes it, made {@code https} with a TLS directory and {@code http} without.
   *
   * @param text {@code http://host:port}, {@code https://host:port} or {@code host:port}
   * @param tls whether a bare {@code host:port} speaks HTTPS
   * @return the base URI, without a trailing slash
   * @throws IllegalArgumentException naming the text, if it is none of those
   */
  static URI baseUri(String text, boolean tls) {
    String t = text.trim();
    if (!t.contains("://")) {
      t = (tls ? "https://" : "http://") + t;
    }
    URI uri;
    try {
      uri = URI.create(t.replaceAll("/+$", ""));
    } catch (IllegalArgumentException e) {
      uri = null;
    }
    if (uri == null
        || uri.getHost() == null
        || !("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))) {
      throw new IllegalArgumentException(
          "--dashboard takes HOST:PORT or http(s)://HOST:PORT, not '" + text + "'");
    }
    return uri;
  }

  /**
   * @return the URL that {@link #fleet} reads
   */
  URI fleetUri() {
    return URI.create(base + "/api/fleet");
  }

  /**
   * @return the snapshot
   * @throws Failure if there is none: the dashboard cannot be reached, refuses, or answers nonsense
   * @throws InterruptedException if interrupted while waiting for it
   */
  JsonNode fleet() throws Failure, InterruptedException {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(fleetUri())
            .timeout(timeout)
            .header("Accept", "application/json")
            .GET();
    if (!token.isEmpty()) {
      request.header("Authorization", "Bearer " + token);
    }
    HttpResponse<InputStream> response;
    try {
      response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (ConnectException | HttpConnectTimeoutException e) {
      throw new Failure(
          JobExit.UNREACHABLE,
          "no dashboard at " + base + ": is the coordinator running with --dashboard?");
    } catch (HttpTimeoutException e) {
      throw new Failure(
          JobExit.UNREACHABLE, "the dashboard at " + base + " did not answer in time");
    } catch (SSLException e) {
      throw new Failure(
          JobExit.UNREACHABLE,
          "no TLS connection with the dashboard at "
              + base
              + ": "
              + e.getMessage()
              + " (--tls-dir must hold the ca.crt that signed the coordinator's certificate, and"
              + " the certificate name the host dialled)");
    } catch (IOException e) {
      throw new Failure(
          JobExit.UNREACHABLE,
          "no answer from the dashboard at "
              + base
              + ": "
              + e.getMessage()
              + ("http".equals(base.getScheme())
                  ? " (a coordinator with --tls-dir speaks HTTPS: give --tls-dir too)"
                  : ""));
    }
    try (InputStream body = response.body()) {
      int status = response.statusCode();
      if (status == 401 || status == 403) {
        throw new Failure(
            JobExit.UNAUTHENTICATED,
            token.isEmpty()
                ? "the dashboard at "
                    + base
                    + " wants a token: set FLOTILLA_SECRET or FLOTILLA_TOKEN (or their _FILE"
                    + " forms, or --token-file) to the cluster secret or a client token"
                : "the dashboard at "
                    + base
                    + " refused the token given: it takes the cluster secret or a client token");
      }
      if (status == 404) {
        throw new Failure(
            JobExit.OTHER,
            "the server at "
                + base
                + " serves no "
                + fleetUri().getPath()
                + ": it is no Flotilla dashboard, or one too old for this command");
      }
      if (status != 200) {
        throw new Failure(
            JobExit.OTHER,
            "the dashboard at " + base + " answered HTTP " + status + " to " + fleetUri());
      }
      return JSON.readTree(body);
    } catch (JsonProcessingException e) {
      throw new Failure(
          JobExit.OTHER,
          "the dashboard at "
              + base
              + " answered with no JSON snapshot: "
              + e.getOriginalMessage());
    } catch (IOException e) {
      throw new Failure(
          JobExit.UNREACHABLE,
          "the dashboard at " + base + " broke off its answer: " + e.getMessage());
    }
  }

  /** An SSL context that trusts the certificates of one PEM file, and only those. */
  private static SSLContext trusting(Path caFile) {
    try (InputStream in = Files.newInputStream(caFile)) {
      KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
      trusted.load(null, null);
      int i = 0;
      for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        trusted.setCertificateEntry("ca-" + i++, c);
      }
      if (i == 0) {
        throw new IllegalArgumentException("no certificate in " + caFile);
      }
      TrustManagerFactory trust =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trust.init(trusted);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, trust.getTrustManagers(), null);
      return context;
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "TLS is configured, and " + caFile + " cannot be read: " + e.getMessage(), e);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "cannot use " + caFile + " as the authority to trust: " + e.getMessage(), e);
    }
  }

  /** Why there is no snapshot: one line for the user, and the exit code for it. */
  static final class Failure extends Exception {
    private static final long serialVersionUID = 1L;

    private final int exitCode;

    Failure(int exitCode, String message) {
      super(message);
      this.exitCode = exitCode;
    }

    /**
     * @return one of {@link JobExit}'s codes
     */
    int exitCode() {
      return exitCode;
    }
  }
}
