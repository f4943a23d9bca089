package io.flotilla.link;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;

/**
 * The cluster secret as every call to a coordinator server carries it: a request header, checked by the
 * server before any handler runs. A header, not a field of the first message, so that one check guards
 * every service, streaming or not.
 */
public final class SecretHeader {
  /** The header's name. */
  public static final Metadata.Key<String> KEY =
      Metadata.Key.of("flotilla-secret", Metadata.ASCII_STRING_MARSHALLER);

  private SecretHeader() {}

  /**
   * @param secret the cluster secret; empty for a server that asks for none
   * @return an interceptor adding it to every call
   */
  public static ClientInterceptor attach(String secret) {
    return new ClientInterceptor() {
      @Override
      public <Q, A> ClientCall<Q, A> interceptCall(
          MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
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
