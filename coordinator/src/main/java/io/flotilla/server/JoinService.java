package io.flotilla.server;

import io.flotilla.link.Handshake;
import io.flotilla.proto.JoinReply;
import io.flotilla.proto.JoinRequest;
import io.flotilla.proto.MembershipGrpc;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The door a worker knocks on before it joins the cluster: its secret was checked by {@link SecretCheck};
 * here its protocol and serializer are, so that a worker built from other code is refused with the
 * reason, before it becomes a member or receives work.
 */
final class JoinService extends MembershipGrpc.MembershipImplBase {
  private static final Logger log = LoggerFactory.getLogger(JoinService.class);

  private final String fingerprint;
  private final JoinReply seed;

  /**
   * @param fingerprint the coordinator's serializer fingerprint
   * @param seed where the cluster's seed node listens
   */
  JoinService(String fingerprint, JoinReply seed) {
    this.fingerprint = fingerprint;
    this.seed = seed;
  }

  @Override
  public void join(JoinRequest request, StreamObserver<JoinReply> out) {
    String problem = Handshake.join(request, fingerprint);
    if (problem != null) {
      log.warn("refusing worker on {}: {}", request.getHost(), problem);
      out.onError(Status.FAILED_PRECONDITION.withDescription(problem).asRuntimeException());
      return;
    }
    out.onNext(seed);
    out.onCompleted();
  }
}
