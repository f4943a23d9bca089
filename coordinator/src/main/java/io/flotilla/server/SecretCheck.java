package io.flotilla.server;

import io.flotilla.link.SecretHeader;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Refuses every call that does not carry the cluster secret, before any handler sees it. Compared in
 * constant time, so that timing tells nothing of the secret.
 */
final class SecretCheck implements ServerInterceptor {
  private final byte[] secret;

  /** @param secret the cluster secret; empty accepts every call (a server on loopback only) */
  SecretCheck(String secret) {
    this.secret = secret.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
    if (secret.length > 0) {
      String given = headers.get(SecretHeader.KEY);
      if (given == null || !MessageDigest.isEqual(secret, given.getBytes(StandardCharsets.UTF_8))) {
        call.close(
            Status.UNAUTHENTICATED.withDescription(
                given == null
                    ? "this coordinator requires the cluster secret (FLOTILLA_SECRET), and the call carried none"
                    : "wrong cluster secret"),
            new Metadata());
        return new ServerCall.Listener<>() {};
      }
    }
    return next.startCall(call, headers);
  }
}
