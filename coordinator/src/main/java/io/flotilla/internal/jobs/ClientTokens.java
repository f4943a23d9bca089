package io.flotilla.internal.jobs;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;

/**
 * Says which client a job-service call comes from, by the bearer token it carries ({@code
 * authorization: Bearer <token>}, as gRPC call credentials send it), and refuses the call with
 * UNAUTHENTICATED when the token is missing or unknown. A coordinator with no tokens (loopback, no
 * secret) takes every call as the client {@value #LOCAL}.
 *
 * <p>Tokens are compared in constant time, every one of them, so that timing tells nothing.
 */
public final class ClientTokens implements ServerInterceptor {
  /** The client a call comes from, for the handlers. */
  static final Context.Key<String> CLIENT = Context.key("flotilla-client");

  public static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  static final String LOCAL = "local";

  private final Map<String, String> clientsByToken;

  /**
   * @param clientsByToken each token's client name; empty when calls need none
   */
  public ClientTokens(Map<String, String> clientsByToken) {
    this.clientsByToken = Map.copyOf(clientsByToken);
  }

  /**
   * @return whether calls must carry a token
   */
  public boolean required() {
    return !clientsByToken.isEmpty();
  }

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
    String client = LOCAL;
    if (required()) {
      String header = headers.get(AUTHORIZATION);
      String refusal = null;
      if (header == null) {
        refusal =
            "this coordinator requires a token: send 'authorization: Bearer <token>'"
                + " (the flotilla command reads FLOTILLA_TOKEN or --token-file)";
      } else if (!header.regionMatches(true, 0, "Bearer ", 0, 7)) {
        refusal = "the authorization header must be 'Bearer <token>'";
      } else {
        client = clientOf(header.substring(7).trim());
        if (client == null) {
          refusal = "unknown token";
        }
      }
      if (refusal != null) {
        call.close(Status.UNAUTHENTICATED.withDescription(refusal), new Metadata());
        return new ServerCall.Listener<>() {};
      }
    }
    return Contexts.interceptCall(Context.current().withValue(CLIENT, client), call, headers, next);
  }

  /**
   * @param token a bearer token, as sent
   * @return whether it is one of the tokens (compared in constant time, as for calls)
   */
  public boolean accepts(String token) {
    return clientOf(token) != null;
  }

  private String clientOf(String token) {
    byte[] given = token.getBytes(StandardCharsets.UTF_8);
    String found = null;
    for (Map.Entry<String, String> e : clientsByToken.entrySet()) {
      if (MessageDigest.isEqual(given, e.getKey().getBytes(StandardCharsets.UTF_8))) {
        found = e.getValue();
      }
    }
    return found;
  }
}
