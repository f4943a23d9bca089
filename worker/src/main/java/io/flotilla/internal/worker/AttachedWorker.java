package io.flotilla.internal.worker;

import com.google.protobuf.ByteString;
import io.flotilla.internal.cluster.StopSignals;
import io.flotilla.internal.code.CodeCache;
import io.flotilla.internal.codec.Codec;
import io.flotilla.internal.link.CoordinatorChannel;
import io.flotilla.internal.link.HostName;
import io.flotilla.proto.BundleList;
import io.flotilla.proto.BundlePart;
import io.flotilla.proto.CodeStoreGrpc;
import io.flotilla.proto.WorkerLinkGrpc;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;

/**
 * A worker host's task JVM: attaches to the coordinator over the worker link, under its host's
 * cluster address, and runs tasks until its session ends. Code that jobs ship is fetched from the
 * coordinator's code store into the host's cache, where the next task JVM finds it. Started by
 * {@link WorkerSupervisor}, to which it says when it is ready and how it ends ({@link TaskJvm}).
 */
final class AttachedWorker {
  /**
   * What the host tells its task JVM.
   *
   * @param host the coordinator's host
   * @param port its gRPC port
   * @param member the host's cluster address
   * @param workerId this JVM's worker id
   * @param threads run threads
   * @param cacheDir where shipped code is kept
   * @param tlsDir PEM files for TLS, or {@code null}
   */
  record Options(
      String host,
      int port,
      String member,
      String workerId,
      int threads,
      Path cacheDir,
      Path tlsDir) {}

  private AttachedWorker() {}

  /**
   * Runs until the session ends.
   *
   * @param options where to attach
   * @param secret the cluster secret
   * @return the exit code ({@link WorkerExit})
   */
  static int run(Options options, String secret) {
    java.util.concurrent.CompletableFuture<String> stop = StopSignals.install();
    ManagedChannel channel =
        CoordinatorChannel.builder(options.host(), options.port(), options.tlsDir(), secret)
            .maxInboundMessageSize(1 << 30)
            .build();
    try {
      ClassLoader loader = Thread.currentThread().getContextClassLoader();
      Codec codec = new Codec(loader);
      CodeCache code =
          new CodeCache(
              options.cacheDir(), (sha, sink) -> fetch(channel, sha, sink), loader, codec);
      WorkerSession session =
          new WorkerSession(
              new WorkerOptions(
                  options.host(),
                  options.port(),
                  options.workerId(),
                  options.threads(),
                  secret,
                  HostName.local(),
                  1 << 30,
                  options.member()),
              codec,
              code);
      session.onReady(() -> System.out.println(TaskJvm.READY));
      session.start(WorkerLinkGrpc.newStub(channel));
      var unused = stop.thenAccept(signal -> session.leave("stopping on " + signal));
      WorkerSession.Ending ending = session.awaitExit();
      if (ending.code() != WorkerExit.STOPPED) {
        System.err.println("flotilla task JVM " + options.workerId() + " " + ending.why());
      }
      ParentWatch.leaving();
      System.out.println(TaskJvm.ENDING + ending.code() + (stop.isDone() ? " " + stop.join() : ""));
      return ending.code();
    } finally {
      channel.shutdownNow();
      System.out.flush();
      System.err.flush();
    }
  }

  private static void fetch(ManagedChannel channel, String sha, OutputStream sink)
      throws IOException {
    // In a context of its own, so that a failure here (a full disk) ends the download at once,
    // rather than leaving the stream open until its deadline.
    Context.CancellableContext call = Context.current().withCancellation();
    Context previous = call.attach();
    try {
      Iterator<BundlePart> parts =
          CodeStoreGrpc.newBlockingStub(channel)
              .withDeadlineAfter(10, TimeUnit.MINUTES)
              .fetch(BundleList.newBuilder().addSha256(sha).build());
      while (parts.hasNext()) {
        ByteString data = parts.next().getData();
        data.writeTo(sink);
      }
    } catch (StatusRuntimeException e) {
      throw new IOException(e.getStatus().getCode() + ": " + e.getStatus().getDescription(), e);
    } finally {
      call.detach(previous);
      call.cancel(null);
    }
  }
}
