package io.flotilla.internal.server;

import io.flotilla.internal.link.Handshake;
import io.flotilla.internal.link.Peer;
import io.flotilla.internal.link.SecretHeader;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses every call that does not carry the cluster secret, before any handler sees it, and logs
 * who was refused. The calls it lets through find their {@link Peer} in their context.
 */
final class SecretCheck implements ServerInterceptor {
  private static final Logger log = LoggerFactory.getLogger(SecretCheck.class);

  private final byte[] secret;

  /**
   * @param secret the cluster secret; empty accepts every call (a server on loopback only)
   */
  SecretCheck(String secret) {
    this.secret = secret.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
    Peer peer = Peer.of(call);
    String problem = Handshake.secret(secret, headers.get(SecretHeader.KEY), "cluster secret");
    if (problem != null) {
      log.warn(
          "refused a call to {} from {}: {}",
          call.getMethodDescriptor().getFullMethodName(),
          peer,
          problem);
      call.close(Status.UNAUTHENTICATED.withDescription(problem), new Metadata());
      return new ServerCall.Listener<>() {};
    }
    return Contexts.interceptCall(peer.attach(), call, headers, next);
  }
}
