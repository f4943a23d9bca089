package io.flotilla.server;

import io.flotilla.link.Handshake;
import io.flotilla.link.SecretHeader;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;

/** Refuses every call that does not carry the cluster secret, before any handler sees it. */
final class SecretCheck implements ServerInterceptor {
  private final byte[] secret;

  /** @param secret the cluster secret; empty accepts every call (a server on loopback only) */
  SecretCheck(String secret) {
    this.secret = secret.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
    String problem = Handshake.secret(secret, headers.get(SecretHeader.KEY), "cluster secret");
    if (problem != null) {
      call.close(Status.UNAUTHENTICATED.withDescription(problem), new Metadata());
      return new ServerCall.Listener<>() {};
    }
    return next.startCall(call, headers);
  }
}
