package io.flotilla.internal.worker;

import com.typesafe.config.Config;
import io.flotilla.internal.cluster.ClusterNode;
import io.flotilla.internal.cluster.StopSignals;
import io.flotilla.internal.codec.Codec;
import io.flotilla.internal.link.CoordinatorChannel;
import io.flotilla.internal.link.Tls;
import io.flotilla.proto.JoinReply;
import io.flotilla.proto.JoinRequest;
import io.flotilla.proto.MembershipGrpc;
import io.flotilla.proto.TaskJvmExit;
import io.flotilla.proto.TaskJvmExitAck;
import io.grpc.ConnectivityState;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker host ({@code flotilla worker}): joins a coordinator's cluster, then keeps a task JVM of
 * its own running, which does the work:
 *
 * <pre>
 *  Membership.Join ──► coordinator checks secret, protocol, serializer; answers with its cluster seed
 *  Pekko join ───────► member Up (role worker); the cluster's failure detector watches it from now on
 *  task JVM started ─► WorkerLink.Attach, Hello naming this member's address: from here on, a worker
 *                      like a local one (see AttachedWorker); shipped code is fetched into the cache
 *  task JVM dies ────► Membership.TaskJvmExited (exit code, stderr tail); a fresh task JVM attaches
 *                      (see WorkerSupervisor); the member stays Up, so the cluster does not churn
 *  downed by the cluster, or its member stopped ──► the task JVM is killed; exit 66
 *  SIGTERM/SIGINT ───► the task JVM leaves (Leaving), then the member leaves the cluster: exit 0
 *  Stop(coordinator stopping) ──► the task JVM ends in order; the member leaves the cluster: exit 0
 * </pre>
 *
 * The task JVM runs user code: a task can crash it, exit it or exhaust its heap, and the host,
 * which runs none, starts another. Killed with SIGKILL, the host leaves no orphan: its task JVM
 * ends when the pipe to its stdin closes. The host itself exits only when starting task JVMs again
 * cannot help (its exit codes: {@link WorkerExit}); whoever started it (systemd, Kubernetes, the
 * ssh script) starts it again after a non-zero exit, and it joins afresh.
 */
public final class JoiningWorker {
  /**
   * What {@code flotilla worker} was told.
   *
   * @param joinHost the coordinator's host
   * @param joinPort its gRPC port
   * @param threads run threads
   * @param secret the cluster secret (empty when the coordinator asks for none)
   * @param bindHost the address this worker's cluster port listens on, or {@code null} for the
   *     address this machine reaches the coordinator from
   * @param clusterPort the cluster port, 0 for any
   * @param advertiseHost the address the coordinator reaches this worker by, or {@code null} for
   *     the bind address
   * @param cacheDir where shipped code is kept
   * @param stableAfter the split brain resolver's wait
   * @param tlsDir PEM files for TLS on the gRPC and cluster ports (see {@link Tls}), or {@code
   *     null}
   * @param pekko further Pekko settings
   * @param jvmOptions JVM options for the task JVMs, after the defaults (such as {@code -Xmx4g})
   * @param exitWithParent end this process (and so its task JVM) when the process that started it
   *     goes away: for a program that starts worker hosts for itself and must leave none behind
   */
  public record Options(
      String joinHost,
      int joinPort,
      int threads,
      String secret,
      String bindHost,
      int clusterPort,
      String advertiseHost,
      Path cacheDir,
      Duration stableAfter,
      Path tlsDir,
      Config pekko,
      java.util.List<String> jvmOptions,
      boolean exitWithParent) {}

  private static final Logger log = LoggerFactory.getLogger(JoiningWorker.class);

  private static final long JOIN_WAIT_SECONDS = 60;

  /** The JVM flags that size the heap, which a task JVM takes over from its host. */
  private static final java.util.regex.Pattern HEAP_FLAGS =
      java.util.regex.Pattern.compile(
          "-Xm[xs]|-XX:(Max|Min|Initial)RAMPercentage=|-XX:MaxRAM=|-XX:MaxHeapSize=");

  private JoiningWorker() {}

  /**
   * Joins, works until the cluster or the coordinator ends it or it is asked to stop (SIGTERM,
   * SIGINT), then leaves.
   *
   * @param options what to join and how
   * @return the exit code, one of {@link WorkerExit}'s: {@link WorkerExit#STOPPED} when asked to
   *     stop or when its coordinator stopped, {@link WorkerExit#REFUSED} when the coordinator
   *     refused this worker, {@link WorkerExit#COORDINATOR_LOST} when the coordinator went away or
   *     the cluster downed this worker, {@link WorkerExit#RESTART} when the coordinator asked for a
   *     fresh worker
   */
  public static int run(Options options) {
    CompletableFuture<String> stop = StopSignals.install();
    if (options.exitWithParent()) {
      ParentWatch.watchParentPid();
    }
    ManagedChannel channel =
        CoordinatorChannel.builder(
                options.joinHost(), options.joinPort(), options.tlsDir(), options.secret())
            .maxInboundMessageSize(1 << 30)
            .build();
    Codec codec = new Codec(Thread.currentThread().getContextClassLoader());
    String where = options.joinHost() + ":" + options.joinPort();
    try {
      JoinReply reply;
      try {
        reply =
            join(
                channel,
                JoinRequest.newBuilder()
                    .setProtocolVersion(Codec.PROTOCOL_VERSION)
                    .setCodecFingerprint(codec.fingerprint())
                    .setHost(io.flotilla.internal.link.HostName.local())
                    .build(),
                stop);
      } catch (StatusRuntimeException e) {
        if (stop.isDone()) {
          log.info("stopping on {} before joining {}", stop.join(), where);
          return WorkerExit.STOPPED;
        }
        return refused(where, e.getStatus());
      }
      // By default the cluster port listens, and is known, on the address this machine reaches the
      // coordinator from: the one address certain to be reachable back.
      String bind = options.bindHost() != null ? options.bindHost() : localAddressTowards(options);
      String advertise = options.advertiseHost() != null ? options.advertiseHost() : bind;
      ClusterNode node =
          ClusterNode.start(
              new ClusterNode.Settings(
                  bind,
                  options.clusterPort(),
                  advertise,
                  reply.getSeedHost(),
                  reply.getSeedPort(),
                  ClusterNode.WORKER,
                  options.stableAfter(),
                  options.tlsDir(),
                  options.pekko()),
              (member, why) -> {});
      try {
        try {
          CompletableFuture.anyOf(node.up(), node.terminated(), stop)
              .get(JOIN_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (Exception e) {
          // Said below.
        }
        if (!node.up().isDone() && !stop.isDone() && node.terminated().isDone()) {
          log.warn("its cluster member stopped before the cluster of {} admitted it", where);
          return WorkerExit.COORDINATOR_LOST;
        }
        if (!node.up().isDone() && !stop.isDone()) {
          log.warn(
              "not admitted to the cluster of {} within {} s (seed {}:{}; can the coordinator reach {}?"
                  + " --bind and --advertise set where this worker listens and what it tells)",
              where,
              JOIN_WAIT_SECONDS,
              reply.getSeedHost(),
              reply.getSeedPort(),
              node.selfAddress());
          return WorkerExit.COORDINATOR_LOST;
        }
        if (stop.isDone()) {
          log.info("stopping on {} before taking work from {}", stop.join(), where);
          return WorkerExit.STOPPED;
        }
        String id =
            // Containers often share a host name and a pid: the member's port tells them apart.
            "w-"
                + io.flotilla.internal.link.HostName.local()
                + "-"
                + ProcessHandle.current().pid()
                + "-"
                + node.port();
        String member = node.selfAddress();
        WorkerSupervisor supervisor =
            new WorkerSupervisor(
                id,
                worker -> taskJvmCommand(options, member, worker),
                options.secret(),
                (worker, pid, code, tail) -> reportDeath(channel, worker, pid, code, tail),
                () ->
                    System.out.println(
                        "flotilla worker joined "
                            + where
                            + " as "
                            + member
                            + " with "
                            + options.threads()
                            + " threads"));
        int code = supervisor.run(stop, node.terminated());
        switch (code) {
          case WorkerExit.STOPPED ->
              log.info(
                  "{}; leaving the cluster of {}",
                  stop.isDone() ? "stopping on " + stop.join() : "its coordinator is stopping",
                  where);
          case WorkerExit.REFUSED -> log.error("refused by the coordinator at {}", where);
          case WorkerExit.COORDINATOR_LOST ->
              log.warn(
                  "downed by the cluster (cut off from its coordinator at {} for longer than"
                      + " --stable-after), or its cluster member stopped; exiting, for its supervisor"
                      + " to start it again",
                  where);
          default -> log.warn("exiting with code {}", code);
        }
        return code;
      } finally {
        node.close();
      }
    } finally {
      channel.shutdownNow();
      System.out.flush();
      System.err.flush();
    }
  }

  /**
   * Asks to join until the coordinator answers, refuses, or has not answered within {@value
   * #JOIN_WAIT_SECONDS} s (it may not be up yet), or a signal stops the wait. Each attempt fails
   * fast, rather than wait for the channel to be ready, so that a refusal by TLS, which only a
   * failed attempt reveals, ends the wait at once.
   *
   * @throws StatusRuntimeException the last attempt's failure
   */
  private static JoinReply join(
      ManagedChannel channel, JoinRequest request, CompletableFuture<String> stop) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(JOIN_WAIT_SECONDS);
    StatusRuntimeException last = null;
    while (true) {
      if (last != null && (stop.isDone() || System.nanoTime() - deadline >= 0)) {
        // Not a fresh attempt with no time left: its failure would say only that.
        throw last;
      }
      Context.CancellableContext attempt = Context.current().withCancellation();
      var unused232 = stop.thenRun(() -> attempt.cancel(null));
      Context previous = attempt.attach();
      try {
        return MembershipGrpc.newBlockingStub(channel)
            .withDeadlineAfter(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)
            .join(request);
      } catch (StatusRuntimeException e) {
        if (stop.isDone()
            || e.getStatus().getCode() != Status.Code.UNAVAILABLE
            || CoordinatorChannel.isTlsRefusal(e.getStatus())
            || System.nanoTime() - deadline >= 0) {
          throw e;
        }
        last = e;
      } finally {
        attempt.detach(previous);
        attempt.cancel(null);
      }
      awaitNextAttempt(channel, deadline, stop);
    }
  }

  /**
   * Waits until the channel tries to connect again: gRPC paces its own attempts after a failed one.
   * After a connection that opened and then closed it would try again at once, so those are paced
   * here.
   */
  private static void awaitNextAttempt(
      ManagedChannel channel, long deadline, CompletableFuture<String> stop) {
    ConnectivityState state = channel.getState(false);
    CompletableFuture<Void> next = new CompletableFuture<>();
    if (state == ConnectivityState.TRANSIENT_FAILURE) {
      channel.notifyWhenStateChanged(state, () -> next.complete(null));
    } else {
      next.completeOnTimeout(null, 1, TimeUnit.SECONDS);
    }
    try {
      CompletableFuture.anyOf(next, stop)
          .get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
      // The deadline passed: the next attempt says so.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static int refused(String where, Status status) {
    String detail = status.getDescription() == null ? "" : ": " + status.getDescription();
    if (CoordinatorChannel.isTlsRefusal(status)) {
      log.error("refused{}", detail);
      return WorkerExit.REFUSED;
    }
    switch (status.getCode()) {
      case UNAUTHENTICATED, PERMISSION_DENIED, FAILED_PRECONDITION -> {
        log.error("refused by the coordinator at {}{}", where, detail);
        return WorkerExit.REFUSED;
      }
      default -> {
        Throwable cause = status.getCause();
        log.warn(
            "cannot join the coordinator at {} within {} s ({}{}{})",
            where,
            JOIN_WAIT_SECONDS,
            status.getCode(),
            detail,
            cause == null || cause.getMessage() == null ? "" : ": " + cause.getMessage());
        return WorkerExit.COORDINATOR_LOST;
      }
    }
  }

  /**
   * The address this machine leaves by towards the coordinator: one the coordinator can reach back.
   */
  private static String localAddressTowards(Options options) {
    try (Socket probe = new Socket()) {
      probe.connect(new InetSocketAddress(options.joinHost(), options.joinPort()), 10_000);
      return probe.getLocalAddress().getHostAddress();
    } catch (IOException e) {
      return "127.0.0.1";
    }
  }

  /**
   * The command line of a task JVM: this JVM's Java and class path, a worker's usual flags, then
   * the user's.
   */
  private static java.util.List<String> taskJvmCommand(
      Options options, String member, String workerId) {
    java.util.List<String> command = new java.util.ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.addAll(io.flotilla.internal.launch.WorkerJvmFlags.DEFAULTS);
    // The memory a user gave `flotilla worker` (FLOTILLA_JAVA_OPTS=-Xmx8g, a container image's
    // MaxRAMPercentage) is meant for the tasks: the task JVM gets it too. This JVM only watches,
    // and uses a small part of the heap it may reserve.
    for (String arg :
        java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (HEAP_FLAGS.matcher(arg).lookingAt()) {
        command.add(arg);
      }
    }
    command.addAll(options.jvmOptions());
    command.add(io.flotilla.internal.launch.WorkerJvmFlags.MAIN_CLASS);
    command.add("--attach");
    command.add(options.joinHost() + ":" + options.joinPort());
    command.add("--member");
    command.add(member);
    command.add("--id");
    command.add(workerId);
    command.add("--threads");
    command.add(Integer.toString(options.threads()));
    command.add("--cache-dir");
    command.add(options.cacheDir().toString());
    if (options.tlsDir() != null) {
      command.add("--tls-dir");
      command.add(options.tlsDir().toString());
    }
    command.add("--token-stdin");
    command.add("--watch-parent");
    return command;
  }

  /** Tells the coordinator how a task JVM died, without waiting for its answer. */
  private static void reportDeath(
      ManagedChannel channel, String workerId, long pid, int exitCode, String stderrTail) {
    MembershipGrpc.newStub(channel)
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .taskJvmExited(
            TaskJvmExit.newBuilder()
                .setWorkerId(workerId)
                .setPid(pid)
                .setExitCode(exitCode)
                .setStderrTail(stderrTail)
                .build(),
            new io.grpc.stub.StreamObserver<TaskJvmExitAck>() {
              @Override
              public void onNext(TaskJvmExitAck ack) {}

              @Override
              public void onError(Throwable e) {
                log.debug("could not report the death of task JVM {}: {}", workerId, e.toString());
              }

              @Override
              public void onCompleted() {}
            });
  }
}
