package io.flotilla.internal.link;

import io.flotilla.internal.codec.Codec;
import io.flotilla.proto.ClientHello;
import io.flotilla.proto.Hello;
import io.flotilla.proto.JoinRequest;
import io.flotilla.proto.Welcome;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * What two ends of a Flotilla connection check before they trust each other, in one place for both
 * ends: the coordinator checks workers (Membership.Join, WorkerLink's Hello) and clients
 * (ClientHello), a worker checks its coordinator (Welcome), and each says why it refuses in the
 * same words.
 *
 * <pre>
 *  secret or token ─► the one given must be the one expected (compared in constant time)
 *  protocol version ─► the same {@link Codec#PROTOCOL_VERSION}: the messages mean the same
 *  serializer ───────► the same Kryo fingerprint: each end can read the other's values
 * </pre>
 *
 * <p>Each check returns {@code null} when it passes, and otherwise the reason, for the refusal sent
 * to the other end and for the log; a reason never contains a secret.
 */
public final class Handshake {
  private static final String SAME_RELEASE = ": run the same Flotilla release on both";

  private Handshake() {}

  /**
   * @param expected the secret or token wanted, as bytes; empty wants none and accepts any (a
   *     server on loopback only)
   * @param given the one presented, or {@code null} when none was
   * @param what its name in the reason: "cluster secret", "token"
   * @return why it is refused, or {@code null}
   */
  public static String secret(byte[] expected, String given, String what) {
    if (expected.length == 0) {
      return null;
    }
    if (given == null) {
      return "this coordinator requires the "
          + what
          + " (FLOTILLA_SECRET), and the call carried none";
    }
    // Constant time, so that timing tells nothing of the secret.
    return MessageDigest.isEqual(expected, given.getBytes(StandardCharsets.UTF_8))
        ? null
        : "wrong " + what;
  }

  /**
   * The coordinator's check of a worker about to join its cluster.
   *
   * @param request the worker's request
   * @param fingerprint the coordinator's serializer fingerprint
   * @return why it is refused, or {@code null}
   */
  public static String join(JoinRequest request, String fingerprint) {
    return compatible(
        "worker",
        "coordinator",
        request.getProtocolVersion(),
        request.getCodecFingerprint(),
        fingerprint);
  }

  /**
   * The coordinator's check of a worker's first message on its stream.
   *
   * @param hello the worker's Hello
   * @param token the token workers must present, as bytes (a local pool's own, or the cluster
   *     secret)
   * @param fingerprint the coordinator's serializer fingerprint
   * @return why it is refused, or {@code null}
   */
  public static String hello(Hello hello, byte[] token, String fingerprint) {
    String problem = secret(token, hello.getToken(), "token");
    if (problem == null) {
      problem =
          compatible(
              "worker",
              "coordinator",
              hello.getProtocolVersion(),
              hello.getCodecFingerprint(),
              fingerprint);
    }
    if (problem == null && hello.getThreads() < 1) {
      problem = "worker offers " + hello.getThreads() + " threads";
    }
    return problem;
  }

  /**
   * A worker's check of the coordinator that welcomed it.
   *
   * @param welcome the coordinator's Welcome
   * @param fingerprint the worker's serializer fingerprint
   * @return why the worker refuses it, or {@code null}
   */
  public static String welcome(Welcome welcome, String fingerprint) {
    return compatible(
        "coordinator",
        "worker",
        welcome.getProtocolVersion(),
        welcome.getCodecFingerprint(),
        fingerprint);
  }

  /**
   * The coordinator's check of a client opening a session.
   *
   * @param hello the client's ClientHello
   * @param fingerprint the coordinator's serializer fingerprint
   * @return why it is refused, or {@code null}
   */
  public static String client(ClientHello hello, String fingerprint) {
    return compatible(
        "client",
        "coordinator",
        hello.getProtocolVersion(),
        hello.getCodecFingerprint(),
        fingerprint);
  }

  /**
   * @param peer what the other end is: "worker", "client", "coordinator"
   * @param self what this end is
   */
  private static String compatible(
      String peer, String self, int peerVersion, String peerFingerprint, String ownFingerprint) {
    if (peerVersion != Codec.PROTOCOL_VERSION) {
      return peer
          + " speaks protocol version "
          + peerVersion
          + ", this "
          + self
          + " speaks "
          + Codec.PROTOCOL_VERSION
          + SAME_RELEASE;
    }
    if (!peerFingerprint.equals(ownFingerprint)) {
      return peer
          + "'s serializer fingerprint "
          + peerFingerprint
          + " differs from this "
          + self
          + "'s "
          + ownFingerprint
          + " (different Kryo version or registrations)"
          + SAME_RELEASE;
    }
    return null;
  }
}
