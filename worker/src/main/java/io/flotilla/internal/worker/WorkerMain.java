package io.flotilla.internal.worker;

import io.flotilla.internal.codec.Codec;
import io.flotilla.internal.link.NettyDefaults;
import io.flotilla.proto.WorkerLinkGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.util.internal.logging.InternalLoggerFactory;
import io.grpc.netty.shaded.io.netty.util.internal.logging.JdkLoggerFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.TimeUnit;

/**
 * Entry point of a worker JVM.
 *
 * <pre>
 * java -cp CLASSPATH io.flotilla.internal.worker.WorkerMain --connect HOST:PORT [--id ID] [--threads N]
 *      [--token-stdin] [--watch-parent] [--max-message-bytes N]
 * java -cp CLASSPATH io.flotilla.internal.worker.WorkerMain --join HOST:PORT [--threads N] [--cache-dir DIR]
 *      [--tls-dir DIR] [--jvm-option OPTION]...
 * java -cp CLASSPATH io.flotilla.internal.worker.WorkerMain --attach HOST:PORT --member ADDRESS --id ID
 *      [--threads N] [--cache-dir DIR] [--tls-dir DIR] --token-stdin --watch-parent
 * </pre>
 *
 * The first form is how a local pool starts its workers; the second joins a coordinator server as
 * {@code flotilla worker} does (see {@link JoiningWorker}), with the cluster secret in {@code
 * FLOTILLA_SECRET}, and runs its tasks in JVMs of the third form (see {@link AttachedWorker}), each
 * given its JVM options.
 *
 * <p>With {@code --token-stdin} the first line of stdin is the token and end of file on stdin ends
 * the worker; {@code --watch-parent} also ends it when its parent process goes away. A launcher
 * passes both.
 */
public final class WorkerMain {
  private WorkerMain() {}

  /**
   * Runs a worker until its coordinator stops it or goes away, then exits the JVM.
   *
   * @param args see the class documentation
   */
  public static void main(String[] args) {
    NettyDefaults.apply();
    String connect = null;
    String join = null;
    String attach = null;
    String member = "";
    java.util.List<String> jvmOptions = new java.util.ArrayList<>();
    java.nio.file.Path tlsDir = null;
    java.nio.file.Path cacheDir =
        java.nio.file.Path.of(System.getProperty("user.home"), ".cache", "flotilla", "code");
    String id = "w" + ProcessHandle.current().pid();
    int threads = 1;
    boolean tokenStdin = false;
    boolean watchParent = false;
    int maxMessageBytes = 1 << 30;
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--connect" -> connect = args[++i];
          case "--join" -> join = args[++i];
          case "--attach" -> attach = args[++i];
          case "--member" -> member = args[++i];
          case "--jvm-option" -> jvmOptions.add(args[++i]);
          case "--cache-dir" -> cacheDir = java.nio.file.Path.of(args[++i]);
          case "--tls-dir" -> tlsDir = java.nio.file.Path.of(args[++i]);
          case "--id" -> id = args[++i];
          case "--threads" -> threads = Integer.parseInt(args[++i]);
          case "--token-stdin" -> tokenStdin = true;
          case "--watch-parent" -> watchParent = true;
          case "--max-message-bytes" -> maxMessageBytes = Integer.parseInt(args[++i]);
          default -> throw new IllegalArgumentException("unknown option " + args[i]);
        }
      }
      String address = join != null ? join : attach != null ? attach : connect;
      if (address == null || address.lastIndexOf(':') < 0) {
        throw new IllegalArgumentException(
            "--connect HOST:PORT, --join HOST:PORT or --attach HOST:PORT is required");
      }
      if (threads < 1) {
        throw new IllegalArgumentException("--threads must be at least 1, was " + threads);
      }
    } catch (RuntimeException e) {
      System.err.println("flotilla worker: " + e.getMessage());
      System.exit(WorkerExit.USAGE);
      return;
    }
    if (join != null) {
      int colon = join.lastIndexOf(':');
      System.exit(
          JoiningWorker.run(
              new JoiningWorker.Options(
                  join.substring(0, colon),
                  Integer.parseInt(join.substring(colon + 1)),
                  threads,
                  envToken(),
                  null,
                  0,
                  null,
                  cacheDir,
                  java.time.Duration.ofSeconds(7),
                  tlsDir,
                  com.typesafe.config.ConfigFactory.empty(),
                  jvmOptions,
                  watchParent)));
      return;
    }
    if (attach != null) {
      String token = tokenStdin ? ParentWatch.watchStdin(System.in).join() : envToken();
      if (watchParent) {
        ParentWatch.watchParentPid();
      }
      int colon = attach.lastIndexOf(':');
      System.exit(
          AttachedWorker.run(
              new AttachedWorker.Options(
                  attach.substring(0, colon),
                  Integer.parseInt(attach.substring(colon + 1)),
                  member,
                  id,
                  threads,
                  cacheDir,
                  tlsDir),
              token));
      return;
    }
    String token = tokenStdin ? ParentWatch.watchStdin(System.in).join() : envToken();
    if (watchParent) {
      ParentWatch.watchParentPid();
    }
    int colon = connect.lastIndexOf(':');
    WorkerOptions options =
        new WorkerOptions(
            connect.substring(0, colon),
            Integer.parseInt(connect.substring(colon + 1)),
            id,
            threads,
            token,
            io.flotilla.internal.link.HostName.local(),
            maxMessageBytes,
            "");
    int code = run(options);
    ParentWatch.leaving();
    System.exit(code);
  }

  private static String envToken() {
    return java.util.Objects.requireNonNullElse(
        io.flotilla.internal.link.CoordinatorChannel.secretFromEnvironment(), "");
  }

  /**
   * How long a worker waits for its coordinator to listen. A local pool starts its workers before
   * its server, so that both boot at once; the server is normally up well before a worker JVM is.
   */
  private static final long LISTEN_WAIT_MILLIS = 30_000;

  /**
   * Waits until the coordinator accepts connections, polling every few milliseconds: gRPC's own
   * reconnection backs off for a second after the first refusal, longer than a whole worker start.
   */
  private static boolean awaitListening(String host, int port) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LISTEN_WAIT_MILLIS);
    while (true) {
      try (Socket probe = new Socket()) {
        probe.connect(new InetSocketAddress(host, port), (int) LISTEN_WAIT_MILLIS);
        return true;
      } catch (IOException refused) {
        if (System.nanoTime() - deadline > 0) {
          return false;
        }
        try {
          Thread.sleep(5);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
    }
  }

  static int run(WorkerOptions options) {
    // Netty would otherwise bind to SLF4J and start whatever logging backend the class path holds
    // (Logback's configuration alone costs a third of a second); gRPC itself logs to JUL anyway.
    InternalLoggerFactory.setDefaultFactory(JdkLoggerFactory.INSTANCE);
    ManagedChannel channel =
        NettyChannelBuilder.forAddress(options.coordinatorHost(), options.coordinatorPort())
            .usePlaintext()
            .directExecutor()
            .maxInboundMessageSize(options.maxMessageBytes())
            .build();
    try {
      WorkerSession session =
          new WorkerSession(
              options, new Codec(Thread.currentThread().getContextClassLoader()), null);
      if (!awaitListening(options.coordinatorHost(), options.coordinatorPort())) {
        System.err.println(
            "flotilla worker: nothing listens on "
                + options.coordinatorHost()
                + ":"
                + options.coordinatorPort()
                + " after "
                + LISTEN_WAIT_MILLIS / 1000
                + " s");
        return WorkerExit.COORDINATOR_LOST;
      }
      session.start(WorkerLinkGrpc.newStub(channel));
      WorkerSession.Ending ending = session.awaitExit();
      // A local pool's worker has no log: what its pool should know goes to the stderr the pool
      // keeps.
      if (ending.code() != WorkerExit.STOPPED && ending.code() != WorkerExit.RESTART) {
        System.err.println("flotilla worker " + options.workerId() + " " + ending.why());
      }
      return ending.code();
    } finally {
      channel.shutdownNow();
      try {
        channel.awaitTermination(1, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      System.out.flush();
      System.err.flush();
    }
  }
}
