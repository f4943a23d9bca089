package io.flotilla.internal.link;

import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How clients and joining workers reach a coordinator server: one channel, TLS when a directory of
 * certificates is given, the cluster secret on every call, and a failure that TLS caused explained
 * as such ({@link #isTlsRefusal}) rather than as a coordinator that cannot be reached.
 */
public final class CoordinatorChannel {
  private CoordinatorChannel() {}

  /** A coordinator's gRPC port's default. */
  public static final int DEFAULT_PORT = 7600;

  /**
   * A coordinator's address.
   *
   * @param host its host
   * @param port its gRPC port
   */
  public record Address(String host, int port) {
    /**
     * @param address {@code host:port}, or {@code host} for port {@value #DEFAULT_PORT}
     * @return it
     * @throws IllegalArgumentException quoting the address, if it is neither
     */
    public static Address parse(String address) {
      int colon = address.lastIndexOf(':');
      if (address.isBlank() || colon == 0) {
        throw new IllegalArgumentException(
            "coordinator address must be host:port, was \"" + address + "\"");
      }
      if (colon < 0) {
        return new Address(address, DEFAULT_PORT);
      }
      try {
        return new Address(
            address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "coordinator address must be host:port, was \"" + address + "\"");
      }
    }

    @Override
    public String toString() {
      return host + ":" + port;
    }
  }

  /**
   * @param host the coordinator's host
   * @param port its gRPC port
   * @param tlsDir PEM files (see {@link Tls}), or {@code null} for plain text
   * @param secret the cluster secret, empty for a coordinator that asks for none
   * @return a builder to finish with the caller's own limits and keepalive
   * @throws IllegalArgumentException if the secret is not printable ASCII or the TLS files are
   *     unusable
   */
  public static NettyChannelBuilder builder(String host, int port, Path tlsDir, String secret) {
    NettyDefaults.apply();
    NettyChannelBuilder builder = NettyChannelBuilder.forAddress(host, port);
    if (tlsDir != null) {
      builder.sslContext(Tls.client(tlsDir));
    } else {
      builder.usePlaintext();
    }
    return builder.intercept(
        SecretHeader.attach(secret), TlsTrouble.explaining(host, port, tlsDir));
  }

  /**
   * A failure of a call on a channel from {@link #builder} that TLS caused: TLS on one side only,
   * or a certificate one side does not trust. Its description says which, in words for the user; it
   * is final, unlike the coordinator being down, and no retry will mend it.
   *
   * @param status how a call failed
   * @return whether TLS refused the connection
   */
  public static boolean isTlsRefusal(io.grpc.Status status) {
    return status.getCause() instanceof TlsTrouble.Refusal;
  }

  /**
   * The secret a program is given from outside: {@code FLOTILLA_SECRET}, else the contents of the
   * file {@code FLOTILLA_SECRET_FILE} names.
   *
   * @return the secret, or {@code null} when neither is set
   * @throws UncheckedIOException if the named file cannot be read
   */
  public static String secretFromEnvironment() {
    String secret = System.getenv("FLOTILLA_SECRET");
    if (secret != null) {
      return secret.trim();
    }
    String file = System.getenv("FLOTILLA_SECRET_FILE");
    return file == null ? null : readSecret(Path.of(file));
  }

  /**
   * @param file a file holding a secret (surrounding white space ignored)
   * @return the secret
   * @throws UncheckedIOException naming the file if it cannot be read
   */
  public static String readSecret(Path file) {
    try {
      return Files.readString(file).trim();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the secret file " + file, e);
    }
  }
}
