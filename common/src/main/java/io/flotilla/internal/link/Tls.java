package io.flotilla.internal.link;

import io.grpc.ServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BiConsumer;
import javax.net.ssl.SSLException;

/**
 * TLS for the gRPC connections of a cluster, from one directory of PEM files, the same layout the
 * cluster port uses: {@code ca.crt} (the authority every member trusts), {@code tls.crt} and {@code
 * tls.key} (this member's certificate, and its key in PKCS#8). The coordinator's certificate must
 * name the address clients and workers dial. Workers present theirs; clients may, and are otherwise
 * known by the secret.
 */
public final class Tls {
  private Tls() {}

  /**
   * @return the server side: the coordinator's certificate, and workers' certificates checked if
   *     shown
   */
  public static SslContext server(Path dir) {
    try {
      return GrpcSslContexts.configure(
              SslContextBuilder.forServer(file(dir, "tls.crt"), file(dir, "tls.key")))
          .trustManager(file(dir, "ca.crt"))
          .clientAuth(ClientAuth.OPTIONAL)
          .build();
    } catch (SSLException e) {
      throw new IllegalArgumentException(
          "cannot use the TLS files in " + dir + ": " + e.getMessage(), e);
    }
  }

  /**
   * The same certificate and key for the JDK's own TLS (an HTTPS server beside the gRPC port).
   *
   * @param dir the PEM files
   * @return a context serving {@code tls.crt}
   */
  public static javax.net.ssl.SSLContext jdkServer(Path dir) {
    return jdk(SslContextBuilder.forServer(file(dir, "tls.crt"), file(dir, "tls.key")), dir);
  }

  /**
   * The JDK's TLS for a client of that server.
   *
   * @param dir the PEM files
   * @return a context trusting {@code ca.crt}
   */
  public static javax.net.ssl.SSLContext jdkClient(Path dir) {
    return jdk(SslContextBuilder.forClient().trustManager(file(dir, "ca.crt")), dir);
  }

  private static javax.net.ssl.SSLContext jdk(SslContextBuilder builder, Path dir) {
    try {
      SslContext context =
          builder.sslProvider(io.grpc.netty.shaded.io.netty.handler.ssl.SslProvider.JDK).build();
      return ((io.grpc.netty.shaded.io.netty.handler.ssl.JdkSslContext) context).context();
    } catch (SSLException e) {
      throw new IllegalArgumentException(
          "cannot use the TLS files in " + dir + ": " + e.getMessage(), e);
    }
  }

  /**
   * A coordinator server's transport: TLS with the directory's files, or plain text without one;
   * either way every connection refused before its first call (a failed handshake, TLS on one side
   * only) is reported.
   *
   * @param dir the PEM files, or {@code null} for plain text
   * @param refused told of each refused connection: the peer's address ({@code host:port}) and why,
   *     on a network thread; must not block
   * @return credentials for {@code NettyServerBuilder.forAddress}
   */
  public static ServerCredentials serverCredentials(Path dir, BiConsumer<String, String> refused) {
    return WatchedTransport.credentials(
        dir == null ? null : server(dir), (peer, why) -> refused.accept(Peer.address(peer), why));
  }

  /**
   * @return the client side: trusts the directory's authority, and shows its certificate if it has
   *     one
   */
  public static SslContext client(Path dir) {
    try {
      SslContextBuilder builder = GrpcSslContexts.forClient().trustManager(file(dir, "ca.crt"));
      if (Files.isRegularFile(dir.resolve("tls.crt"))
          && Files.isRegularFile(dir.resolve("tls.key"))) {
        builder.keyManager(file(dir, "tls.crt"), file(dir, "tls.key"));
      }
      return builder.build();
    } catch (SSLException e) {
      throw new IllegalArgumentException(
          "cannot use the TLS files in " + dir + ": " + e.getMessage(), e);
    }
  }

  private static File file(Path dir, String name) {
    Path file = dir.resolve(name);
    if (!Files.isReadable(file)) {
      throw new UncheckedIOException(
          new IOException("TLS is configured, and " + file + " cannot be read"));
    }
    return file.toFile();
  }
}
