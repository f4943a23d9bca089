package io.flotilla.internal.link;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;

/**
 * The cluster secret as every call to a coordinator server carries it: a request header, checked by
 * the server before any handler runs. A header, not a field of the first message, so that one check
 * guards every service, streaming or not.
 */
public final class SecretHeader {
  /** The header's name. */
  public static final Metadata.Key<String> KEY =
      Metadata.Key.of("flotilla-secret", Metadata.ASCII_STRING_MARSHALLER);

  private SecretHeader() {}

  /**
   * @param secret a cluster secret
   * @throws IllegalArgumentException if it cannot travel in a header: it must be printable ASCII
   */
  public static void check(String secret) {
    if (!secret.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
      throw new IllegalArgumentException(
          "the cluster secret must be printable ASCII (make one with: head -c 32 /dev/urandom | base64)");
    }
  }

  /**
   * @param secret the cluster secret; empty for a server that asks for none
   * @return an interceptor adding it to every call
   * @throws IllegalArgumentException if the secret is not printable ASCII
   */
  public static ClientInterceptor attach(String secret) {
    check(secret);
    return new ClientInterceptor() {
      @Override
      public <Q, A> ClientCall<Q, A> interceptCall(
          MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
        return new ForwardingClientCall.SimpleForwardingClientCall<>(
            next.newCall(method, options)) {
          @Override
          public void start(Listener<A> listener, Metadata headers) {
            if (!secret.isEmpty()) {
              headers.put(KEY, secret);
            }
            super.start(listener, headers);
          }
        };
      }
    };
  }
}
