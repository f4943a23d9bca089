package io.flotilla.internal.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.JoinSeedNodes;
import org.apache.pekko.cluster.typed.Leave;
import org.apache.pekko.cluster.typed.SelfUp;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * This JVM as a member of a Flotilla cluster: the control plane. Pekko's membership, failure
 * detector and Split Brain Resolver decide who is in and who is gone; work itself travels over
 * gRPC.
 *
 * <p>The resolver keeps the majority of <em>coordinators</em> ({@code keep-majority} with role
 * {@code coordinator}): workers never outvote the coordinator, so a worker cut off from it downs
 * itself, however many workers share its side, and a coordinator cut off from all its workers stays
 * up for the ones that come back or replace them. A downed member's actor system terminates; the
 * process owning it decides what that means (a worker exits, and its supervisor starts it again).
 *
 * <p>Thread-safe. Listeners are called on Pekko's threads and must not block.
 */
public final class ClusterNode implements AutoCloseable {
  /** The name of every Flotilla cluster's actor system: part of every member's address. */
  public static final String SYSTEM_NAME = "flotilla";

  /** The role a coordinator has. */
  public static final String COORDINATOR = "coordinator";

  /** The role a worker has. */
  public static final String WORKER = "worker";

  /**
   * How this node listens and whom it joins.
   *
   * @param bindHost the address to listen on
   * @param port the port, 0 for any
   * @param advertiseHost the address other members reach this one by
   * @param seedHost the seed's address, or {@code null} for a seed (the coordinator joins itself)
   * @param seedPort the seed's port
   * @param role {@link #COORDINATOR} or {@link #WORKER}
   * @param stableAfter how long reachability must stay unchanged before the resolver downs anyone
   * @param tlsDir a directory with {@code tls.key}, {@code tls.crt} and {@code ca.crt} (PEM), or
   *     {@code null} for plain TCP; with it, members must present certificates the CA signed
   * @param extra further Pekko settings (from a user's config file); Flotilla's own (addresses,
   *     roles, downing) take precedence over them
   */
  public record Settings(
      String bindHost,
      int port,
      String advertiseHost,
      String seedHost,
      int seedPort,
      String role,
      Duration stableAfter,
      Path tlsDir,
      Config extra) {}

  /**
   * Told what the cluster learns of other members. Called on Pekko's threads; must not block.
   *
   * <p>Reachability is the failure detector's opinion, and it changes its mind: a member found
   * unreachable (no heartbeats for longer than the detector allows) may be found reachable again
   * when the network heals, and is gone for good only once the cluster downs or removes it. Pekko
   * publishes the merged view of all members, so a member that another member cannot reach counts
   * as unreachable here too.
   */
  @FunctionalInterface
  public interface MemberWatch {
    /**
     * The cluster removed or downed a member: it never comes back under this address.
     *
     * @param address its address, as {@link ClusterNode#address(Member)} gives it
     * @param why in words
     */
    void gone(String address, String why);

    /**
     * A member stopped answering heartbeats: it may be dead, or cut off by the network.
     *
     * @param address its address
     */
    default void unreachable(String address) {}

    /**
     * A member found unreachable answers again, and was not downed meanwhile.
     *
     * @param address its address
     */
    default void reachable(String address) {}
  }

  private final ActorSystem<Object> system;
  private final CompletableFuture<Void> up = new CompletableFuture<>();
  private final CompletableFuture<Void> terminated = new CompletableFuture<>();

  private ClusterNode(Settings settings, MemberWatch watch) {
    Config config =
        config(settings).withFallback(settings.extra()).withFallback(ConfigFactory.load());
    this.system =
        ActorSystem.create(
            Behaviors.setup(
                context -> {
                  Cluster cluster = Cluster.get(context.getSystem());
                  // Joined here rather than through seed-nodes in the config: a seed listening on
                  // an
                  // ephemeral port only knows its address once it is bound.
                  org.apache.pekko.actor.Address seed =
                      settings.seedHost() == null
                          ? cluster.selfMember().address()
                          : new org.apache.pekko.actor.Address(
                              "pekko", SYSTEM_NAME, settings.seedHost(), settings.seedPort());
                  cluster.manager().tell(new JoinSeedNodes(List.of(seed)));
                  cluster
                      .subscriptions()
                      .tell(Subscribe.create(context.getSelf().narrow(), SelfUp.class));
                  cluster
                      .subscriptions()
                      .tell(
                          Subscribe.create(
                              context.getSelf().narrow(), ClusterEvent.MemberEvent.class));
                  cluster
                      .subscriptions()
                      .tell(
                          Subscribe.create(
                              context.getSelf().narrow(), ClusterEvent.ReachabilityEvent.class));
                  return Behaviors.receive(Object.class)
                      .onMessage(
                          SelfUp.class,
                          m -> {
                            up.complete(null);
                            return Behaviors.same();
                          })
                      .onMessage(
                          ClusterEvent.MemberRemoved.class,
                          m -> {
                            watch.gone(
                                address(m.member()),
                                "removed from the cluster (was " + m.previousStatus() + ")");
                            return Behaviors.same();
                          })
                      .onMessage(
                          ClusterEvent.MemberDowned.class,
                          m -> {
                            watch.gone(
                                address(m.member()),
                                "downed by the cluster: unreachable for longer than the failure detector and"
                                    + " the split brain resolver allow");
                            return Behaviors.same();
                          })
                      .onMessage(ClusterEvent.MemberEvent.class, m -> Behaviors.same())
                      .onMessage(
                          ClusterEvent.UnreachableMember.class,
                          m -> {
                            watch.unreachable(address(m.member()));
                            return Behaviors.same();
                          })
                      .onMessage(
                          ClusterEvent.ReachableMember.class,
                          m -> {
                            watch.reachable(address(m.member()));
                            return Behaviors.same();
                          })
                      .build();
                }),
            SYSTEM_NAME,
            config);
    // Finishing a downed member's shutdown can wait long on members it cannot reach (Artery
    // flushing to
    // them): its owner learns at the start that this member is done with, not at the end.
    org.apache.pekko.actor.CoordinatedShutdown.get(system)
        .addTask(
            org.apache.pekko.actor.CoordinatedShutdown.PhaseBeforeServiceUnbind(),
            "flotilla-member-stops",
            () -> {
              terminated.complete(null);
              return CompletableFuture.completedFuture(org.apache.pekko.Done.getInstance());
            });
    system.getWhenTerminated().whenComplete((done, e) -> terminated.complete(null));
  }

  /**
   * Starts a member and joins the cluster (a seed joins itself).
   *
   * @param settings where to listen and whom to join
   * @param watch told of each member the cluster removes or downs (its address and why), and of
   *     members found unreachable and reachable again
   * @return the running node
   * @throws UncheckedIOException saying why, if the node cannot start (its port is taken)
   */
  public static ClusterNode start(Settings settings, MemberWatch watch) {
    try {
      return new ClusterNode(settings, watch);
    } catch (RuntimeException e) {
      // Most often the port is taken: a setting to change, said in one line rather than Pekko's
      // traces.
      Throwable root = e;
      while (root.getCause() != null) {
        root = root.getCause();
      }
      throw new UncheckedIOException(
          new IOException(
              "cannot start the cluster node on "
                  + settings.bindHost()
                  + ", cluster port "
                  + settings.port()
                  + ": "
                  + root.getMessage()
                  + " (--cluster-port chooses another port)",
              e));
    }
  }

  /**
   * @return the address other members know this one by, as in {@link #address(Member)}
   */
  public String selfAddress() {
    return Cluster.get(system).selfMember().address().toString();
  }

  /**
   * @return completes when this member is Up
   */
  public CompletableFuture<Void> up() {
    return up;
  }

  /**
   * @return completes when this member stops being one, as its shutdown begins: it leaves, or the
   *     cluster downed it
   */
  public CompletableFuture<Void> terminated() {
    return terminated;
  }

  /**
   * @return the port this member listens on (the bound one, when it was asked for any)
   */
  public int port() {
    return Cluster.get(system).selfMember().address().getPort().get();
  }

  /**
   * @return a member's address as {@link #selfAddress()} gives it
   */
  public static String address(Member member) {
    return member.address().toString();
  }

  /** Leaves the cluster gracefully and stops; waits up to ten seconds for the others to agree. */
  @Override
  public void close() {
    if (!terminated.isDone()) {
      Cluster cluster = Cluster.get(system);
      cluster.manager().tell(new Leave(cluster.selfMember().address()));
      system.terminate();
      try {
        system
            .getWhenTerminated()
            .toCompletableFuture()
            .get(10, java.util.concurrent.TimeUnit.SECONDS);
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        // Gone as far as it will in the time: the process ends anyway.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static Config config(Settings s) {
    StringBuilder c = new StringBuilder();
    c.append("pekko.loglevel = WARNING\n");
    c.append("pekko.loggers = [\"org.apache.pekko.event.slf4j.Slf4jLogger\"]\n");
    c.append("pekko.logging-filter = \"org.apache.pekko.event.slf4j.Slf4jLoggingFilter\"\n");
    c.append("pekko.log-dead-letters = off\n");
    c.append("pekko.actor.provider = cluster\n");
    c.append("pekko.remote.artery.canonical.hostname = ")
        .append(hocon(s.advertiseHost()))
        .append('\n');
    c.append("pekko.remote.artery.canonical.port = ").append(s.port()).append('\n');
    c.append("pekko.remote.artery.bind.hostname = ").append(hocon(s.bindHost())).append('\n');
    c.append("pekko.remote.artery.bind.port = ").append(s.port()).append('\n');
    c.append("pekko.cluster.roles = [").append(s.role()).append("]\n");
    c.append("pekko.cluster.jmx.enabled = off\n");
    c.append("pekko.cluster.log-info = off\n");
    c.append(
        "pekko.cluster.downing-provider-class = \"org.apache.pekko.cluster.sbr.SplitBrainResolverProvider\"\n");
    c.append("pekko.cluster.split-brain-resolver.active-strategy = keep-majority\n");
    c.append("pekko.cluster.split-brain-resolver.keep-majority.role = ")
        .append(COORDINATOR)
        .append('\n');
    // The failure detector keeps Pekko's defaults (a heartbeat every second, 3 s of silence
    // accepted): a host that goes silent is found unreachable 4 to 5 s later (the pause, the
    // detector's margin and its check once a second), and its worker's chunks then run elsewhere.
    // A shorter pause would save about a second per cut, and bring false verdicts on a busy machine
    // (a long collection, or JVMs starting beside the workers on two cores), each of which runs a
    // healthy worker's chunks twice. Users may still set them (pekko.cluster.failure-detector.*).
    c.append("pekko.cluster.split-brain-resolver.stable-after = ")
        .append(s.stableAfter().toMillis())
        .append("ms\n");
    // The JVM's owner decides when to exit; a downed worker's process exits by itself through it.
    c.append("pekko.coordinated-shutdown.exit-jvm = off\n");
    if (s.tlsDir() != null) {
      String dir = s.tlsDir().toAbsolutePath().toString();
      c.append("pekko.remote.artery.transport = tls-tcp\n");
      c.append("pekko.remote.artery.ssl.ssl-engine-provider = ")
          .append("\"org.apache.pekko.remote.artery.tcp.ssl.RotatingKeysSSLEngineProvider\"\n");
      c.append("pekko.remote.artery.ssl.rotating-keys-engine.key-file = ")
          .append(hocon(dir + "/tls.key"))
          .append('\n');
      c.append("pekko.remote.artery.ssl.rotating-keys-engine.cert-file = ")
          .append(hocon(dir + "/tls.crt"))
          .append('\n');
      c.append("pekko.remote.artery.ssl.rotating-keys-engine.ca-cert-file = ")
          .append(hocon(dir + "/ca.crt"))
          .append('\n');
    }
    return ConfigFactory.parseString(c.toString());
  }

  private static String hocon(String value) {
    return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
