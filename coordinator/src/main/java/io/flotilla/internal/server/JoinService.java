package io.flotilla.internal.server;

import io.flotilla.internal.link.Handshake;
import io.flotilla.internal.link.Peer;
import io.flotilla.proto.JoinReply;
import io.flotilla.proto.JoinRequest;
import io.flotilla.proto.MembershipGrpc;
import io.flotilla.proto.TaskJvmExit;
import io.flotilla.proto.TaskJvmExitAck;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The door a worker knocks on before it joins the cluster: its secret was checked by {@link
 * SecretCheck}; here its protocol and serializer are, so that a worker built from other code is
 * refused with the reason, before it becomes a member or receives work.
 */
final class JoinService extends MembershipGrpc.MembershipImplBase {
  private static final Logger log = LoggerFactory.getLogger(JoinService.class);

  private final String fingerprint;
  private final JoinReply seed;
  private final boolean tls;
  private final ClusterFleet fleet;

  /**
   * @param fingerprint the coordinator's serializer fingerprint
   * @param seed where the cluster's seed node listens
   * @param tls whether this coordinator speaks TLS: its workers must then show certificates it
   *     trusts
   * @param fleet told how task JVMs died
   */
  JoinService(String fingerprint, JoinReply seed, boolean tls, ClusterFleet fleet) {
    this.fleet = fleet;
    this.fingerprint = fingerprint;
    this.seed = seed;
    this.tls = tls;
  }

  @Override
  public void join(JoinRequest request, StreamObserver<JoinReply> out) {
    Peer peer = Peer.current();
    String problem = Handshake.join(request, fingerprint);
    if (problem != null) {
      log.warn("refusing worker on {} from {}: {}", request.getHost(), peer, problem);
      out.onError(Status.FAILED_PRECONDITION.withDescription(problem).asRuntimeException());
      return;
    }
    // Clients may call without a certificate (the secret is their credential), so the TLS port does
    // not
    // demand one; a worker does need one, for the cluster port, which would refuse it only after a
    // minute of retries, with nothing said at either end.
    if (tls && (peer == null || !peer.certified())) {
      problem =
          "this coordinator admits workers over TLS only with a certificate signed by its ca.crt, and this"
              + " worker showed none it trusts: its TLS directory needs a tls.crt and tls.key signed by the"
              + " cluster's ca.crt";
      log.warn("refusing worker on {} from {}: {}", request.getHost(), peer, problem);
      out.onError(Status.PERMISSION_DENIED.withDescription(problem).asRuntimeException());
      return;
    }
    out.onNext(seed);
    out.onCompleted();
  }

  @Override
  public void taskJvmExited(TaskJvmExit exit, StreamObserver<TaskJvmExitAck> out) {
    fleet.taskJvmExited(exit.getWorkerId(), exit.getExitCode(), exit.getStderrTail());
    out.onNext(TaskJvmExitAck.getDefaultInstance());
    out.onCompleted();
  }
}
