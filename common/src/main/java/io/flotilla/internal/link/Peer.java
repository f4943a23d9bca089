package io.flotilla.internal.link;

import io.grpc.Context;
import io.grpc.Grpc;
import io.grpc.ServerCall;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * The other end of a call to a coordinator server: where it called from, for the log line of every
 * refusal, and its TLS session, for the check that joining workers show a certificate. A
 * coordinator server's first interceptor puts it in the call's {@link Context}, where the handlers
 * find it.
 *
 * @param address where the call came from, or {@code null} if the transport does not say
 * @param tls the call's TLS session, or {@code null} on plain text
 */
public record Peer(SocketAddress address, SSLSession tls) {
  private static final Context.Key<Peer> KEY = Context.key("flotilla-peer");

  /**
   * @param call a call the server received
   * @return its peer
   */
  public static Peer of(ServerCall<?, ?> call) {
    return new Peer(
        call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR),
        call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
  }

  /**
   * @return the current call's context with this peer in it
   */
  public Context attach() {
    return Context.current().withValue(KEY, this);
  }

  /**
   * @return the peer of the call whose handler runs now, or {@code null} outside one
   */
  public static Peer current() {
    return KEY.get();
  }

  /**
   * @return whether it showed a certificate that this server's authority signed
   */
  public boolean certified() {
    if (tls == null) {
      return false;
    }
    try {
      return tls.getPeerCertificates().length > 0;
    } catch (SSLPeerUnverifiedException none) {
      return false;
    }
  }

  /**
   * @return {@code host:port}, as an operator greps for it
   */
  @Override
  public String toString() {
    return address(address);
  }

  /**
   * @return an address as {@code host:port}, without Java's leading slash
   */
  static String address(SocketAddress address) {
    if (address instanceof InetSocketAddress inet && inet.getAddress() != null) {
      return inet.getAddress().getHostAddress() + ":" + inet.getPort();
    }
    return String.valueOf(address);
  }
}
