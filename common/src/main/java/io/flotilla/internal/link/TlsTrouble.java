package io.flotilla.internal.link;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.netty.handler.ssl.NotSslRecordException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * TLS failures in words, at both ends of a connection to a coordinator: which side does not trust
 * which certificate, or which side speaks TLS and which plain text. gRPC reports all of them as a
 * coordinator it "cannot reach" (UNAVAILABLE), and a plain-text client of a TLS port does not even
 * get a cause: only a closed connection. The client side here turns each into a refusal that says
 * why ({@link CoordinatorChannel#isTlsRefusal}); the server side names it for the coordinator's
 * log.
 */
final class TlsTrouble {
  /**
   * How long the check that a port speaks TLS may take: a coordinator answers a handshake in
   * milliseconds, and the check runs only after a connection has already failed.
   */
  private static final int PROBE_MILLIS = 5_000;

  /** Where a client or worker is given the cluster's authority. */
  private static final String TLS_DIR = "(--tls-dir, FLOTILLA_TLS_DIR, or ClusterPool.Builder.tls)";

  private TlsTrouble() {}

  /** The cause of a status that says why TLS refused the connection. */
  static final class Refusal extends IOException {
    private static final long serialVersionUID = 1L;

    Refusal(String why, Throwable cause) {
      super(why, cause);
    }
  }

  /**
   * @param cause why a server's TLS handshake failed
   * @return the reason for the log, or {@code null} when the peer only hung up before it began (a
   *     port probe, a health check of the TCP port)
   */
  static String serverSide(Throwable cause) {
    if (find(cause, ClosedChannelException.class) != null) {
      return null;
    }
    if (find(cause, NotSslRecordException.class) != null) {
      return "it spoke plain text, and this coordinator requires TLS: give it the cluster's ca.crt "
          + TLS_DIR;
    }
    if (find(cause, GeneralSecurityException.class) != null) {
      return "its certificate is not signed by this coordinator's ca.crt (" + root(cause) + ")";
    }
    String message = root(cause);
    if (alert(message)) {
      return "it ended the TLS handshake with an alert ("
          + message
          + "): it does not trust this coordinator's certificate, most likely; its ca.crt must be the"
          + " cluster's, and this coordinator's certificate must name the address it dials";
    }
    return "the TLS handshake failed: " + message;
  }

  /**
   * @param cause why a client's call failed
   * @param where the coordinator's address
   * @param tlsDir the client's TLS directory
   * @return the reason, when its TLS handshake failed; {@code null} when TLS is not the cause
   */
  static String clientSide(Throwable cause, String where, Path tlsDir) {
    if (find(cause, SSLException.class) == null) {
      return null;
    }
    String failed = "the TLS handshake with the coordinator at " + where + " failed: ";
    if (find(cause, NotSslRecordException.class) != null) {
      return failed
          + "it does not speak TLS, and this side does: give this side no TLS directory, or give the"
          + " coordinator --tls-dir";
    }
    if (find(cause, GeneralSecurityException.class) != null) {
      return failed
          + "it showed a certificate this side does not trust ("
          + root(cause)
          + "): the certificate must be signed by the ca.crt in "
          + tlsDir
          + ", and name the address dialled";
    }
    String message = root(cause);
    if (alert(message)) {
      return failed
          + "it ended the handshake with an alert ("
          + message
          + "): it does not trust this side's certificate, most likely; the tls.crt in "
          + tlsDir
          + " must be signed by the cluster's ca.crt";
    }
    return failed + message;
  }

  /**
   * Explains the failures of a channel's calls that TLS caused: each becomes an UNAVAILABLE status
   * whose description says why and whose cause is a {@link Refusal}.
   *
   * @param host the coordinator's host
   * @param port its port
   * @param tlsDir the channel's TLS directory, or {@code null} for plain text
   */
  static ClientInterceptor explaining(String host, int port, Path tlsDir) {
    String where = host + ":" + port;
    // A port that has answered this channel in plain text speaks it: a call cut later (the
    // coordinator stopping, the network) is no TLS matter, and a probe would only show up in a
    // stopping coordinator's log as a TLS client it refused.
    AtomicBoolean answeredPlainly = new AtomicBoolean();
    return new ClientInterceptor() {
      @Override
      public <Q, A> ClientCall<Q, A> interceptCall(
          MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
        // A blocking call runs its callbacks on its own, waiting thread, through this executor:
        // news
        // delivered from elsewhere must go through it too, or the caller never wakes.
        Executor callbacks = options.getExecutor() != null ? options.getExecutor() : Runnable::run;
        return new ForwardingClientCall.SimpleForwardingClientCall<>(
            next.newCall(method, options)) {
          @Override
          public void start(Listener<A> listener, Metadata headers) {
            super.start(
                new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                  @Override
                  public void onHeaders(Metadata answer) {
                    answeredPlainly.set(tlsDir == null);
                    super.onHeaders(answer);
                  }

                  @Override
                  public void onClose(Status status, Metadata trailers) {
                    if (status.getCode() != Status.Code.UNAVAILABLE) {
                      super.onClose(status, trailers);
                    } else if (tlsDir != null) {
                      String why = clientSide(status.getCause(), where, tlsDir);
                      super.onClose(why == null ? status : refusal(why, status), trailers);
                    } else if (!mayBeTls(status) || answeredPlainly.get()) {
                      super.onClose(status, trailers);
                    } else {
                      // The check connects: off the thread that delivers this call's news. onClose
                      // is
                      // the call's last callback, so delivering it later keeps the callbacks in
                      // order.
                      var unused =
                          CompletableFuture.supplyAsync(
                                  () -> speaksTls(host, port), TlsTrouble::daemon)
                              .whenComplete(
                                  (tls, error) ->
                                      callbacks.execute(
                                          () ->
                                              delegate()
                                                  .onClose(
                                                      Boolean.TRUE.equals(tls)
                                                          ? refusal(
                                                              "the coordinator at "
                                                                  + where
                                                                  + " requires TLS, and this side spoke plain"
                                                                  + " text: give this side the cluster's ca.crt "
                                                                  + TLS_DIR,
                                                              status)
                                                          : status,
                                                      trailers)));
                    }
                  }
                },
                headers);
          }
        };
      }
    };
  }

  /** The other side sent a TLS alert: it, not this side, gave up on the handshake. */
  private static boolean alert(String message) {
    return message.toLowerCase(java.util.Locale.ROOT).contains("alert");
  }

  private static Status refusal(String why, Status status) {
    return Status.UNAVAILABLE.withDescription(why).withCause(new Refusal(why, status.getCause()));
  }

  /**
   * A plain-text connection to a TLS port is accepted, then closed without a cause; one that was
   * never made (nothing listens, no such host) says so, and was no TLS server's doing.
   */
  private static boolean mayBeTls(Status status) {
    Throwable cause = status.getCause();
    return find(cause, ConnectException.class) == null
        && find(cause, UnknownHostException.class) == null
        && find(cause, UnresolvedAddressException.class) == null
        && find(cause, NoRouteToHostException.class) == null;
  }

  /**
   * @return whether the port completes a TLS handshake: then it requires TLS, since a plain-text
   *     gRPC port cannot. Nothing is sent after the handshake, and no certificate is trusted or
   *     shown.
   */
  static boolean speaksTls(String host, int port) {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, new TrustManager[] {new AcceptsAny()}, null);
      try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket()) {
        socket.connect(new InetSocketAddress(host, port), PROBE_MILLIS);
        socket.setSoTimeout(PROBE_MILLIS);
        SSLParameters parameters = socket.getSSLParameters();
        // As gRPC asks: a server that negotiates HTTP/2 sees an ordinary client hang up.
        parameters.setApplicationProtocols(new String[] {"h2"});
        socket.setSSLParameters(parameters);
        socket.startHandshake();
        return true;
      }
    } catch (SSLException e) {
      // A TLS server that refuses this probe still answers in TLS: an alert.
      return String.valueOf(e.getMessage()).contains("alert");
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      return false;
    }
  }

  /** Trusts any certificate: the probe only asks whether the port speaks TLS, and sends nothing. */
  private static final class AcceptsAny implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }

  private static void daemon(Runnable task) {
    Thread t = new Thread(task, "flotilla-tls-check");
    t.setDaemon(true);
    t.start();
  }

  private static <T extends Throwable> T find(Throwable error, Class<T> type) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return null;
  }

  private static String root(Throwable error) {
    Throwable root = error;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getMessage() != null ? root.getMessage() : root.getClass().getSimpleName();
  }
}
