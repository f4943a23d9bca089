package io.flotilla.internal.server;

import com.google.protobuf.ByteString;
import io.flotilla.internal.code.Bundle;
import io.flotilla.proto.BundleList;
import io.flotilla.proto.BundlePart;
import io.flotilla.proto.CodeStoreGrpc;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The coordinator's store of code, named by SHA-256: the jars on its own class path, and those
 * clients upload. Clients upload only what it lacks; workers fetch only what they lack. An upload
 * is kept only if its bytes match its name, so a name always means the same code.
 *
 * <p>Its calls run on an executor of their own ({@link CoordinatorServer} sees to it), not on the
 * network threads that carry results: they read, write and hash files. A fetch streams as fast as
 * the worker's flow control lets it; an upload is written as its parts arrive.
 */
final class CodeStore extends CodeStoreGrpc.CodeStoreImplBase {
  private static final int PART_BYTES = 1 << 20;

  private final Path dir;
  private final long maxBundleBytes;
  private final Map<String, Bundle> own = new ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.AtomicLong fetches =
      new java.util.concurrent.atomic.AtomicLong();

  /**
   * @param dir where uploads are kept
   * @param maxBundleBytes the largest upload accepted
   */
  CodeStore(Path dir, long maxBundleBytes) {
    this.dir = dir;
    this.maxBundleBytes = maxBundleBytes;
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the code store " + dir, e);
    }
    for (Bundle b : Bundle.ofClassPath(System.getProperty("java.class.path", ""))) {
      own.put(b.sha256(), b);
    }
  }

  /**
   * @return whether a bundle of that digest is stored
   */
  boolean has(String sha) {
    return own.containsKey(sha) || Files.isRegularFile(stored(sha));
  }

  private Path stored(String sha) {
    return dir.resolve(sha + ".jar");
  }

  @Override
  public void missing(BundleList request, StreamObserver<BundleList> out) {
    BundleList.Builder lacking = BundleList.newBuilder();
    for (String sha : request.getSha256List()) {
      if (!Bundle.isName(sha)) {
        out.onError(
            Status.INVALID_ARGUMENT
                .withDescription("not a bundle name: " + sha)
                .asRuntimeException());
        return;
      }
      if (!has(sha)) {
        lacking.addSha256(sha);
      }
    }
    out.onNext(lacking.build());
    out.onCompleted();
  }

  @Override
  public StreamObserver<BundlePart> upload(StreamObserver<BundleList> out) {
    return new StreamObserver<>() {
      private final BundleList.Builder stored = BundleList.newBuilder();
      private String sha;
      private Path partial;
      private OutputStream file;
      private MessageDigest digest;
      private long bytes;
      private boolean failed;

      @Override
      public void onNext(BundlePart part) {
        if (failed) {
          return;
        }
        try {
          if (sha == null) {
            if (!Bundle.isName(part.getSha256())) {
              fail(
                  Status.INVALID_ARGUMENT.withDescription(
                      "not a bundle name: " + part.getSha256()));
              return;
            }
            sha = part.getSha256();
            partial = Files.createTempFile(dir, sha, ".part");
            file = Files.newOutputStream(partial);
            digest = Bundle.newDigest();
            bytes = 0;
          } else if (!sha.equals(part.getSha256())) {
            fail(
                Status.INVALID_ARGUMENT.withDescription(
                    "bundle " + sha + " ended without its last part"));
            return;
          }
          bytes += part.getData().size();
          if (bytes > maxBundleBytes) {
            fail(
                Status.RESOURCE_EXHAUSTED.withDescription(
                    "bundle "
                        + sha
                        + " is larger than this coordinator accepts ("
                        + maxBundleBytes
                        + " bytes)"));
            return;
          }
          part.getData().writeTo(file);
          digest.update(part.getData().asReadOnlyByteBuffer());
          if (part.getLast()) {
            file.close();
            String got = HexFormat.of().formatHex(digest.digest());
            if (!got.equals(sha)) {
              fail(
                  Status.INVALID_ARGUMENT.withDescription(
                      "bundle " + sha + " arrived with digest " + got));
              return;
            }
            Files.move(
                partial,
                stored(sha),
                StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
            stored.addSha256(sha);
            sha = null;
            partial = null;
          }
        } catch (IOException e) {
          fail(
              Status.INTERNAL.withDescription(
                  "cannot store bundle " + sha + ": " + e.getMessage()));
        }
      }

      private void fail(Status status) {
        failed = true;
        discard();
        out.onError(status.asRuntimeException());
      }

      private void discard() {
        try {
          if (file != null) {
            file.close();
          }
          if (partial != null) {
            Files.deleteIfExists(partial);
          }
        } catch (IOException ignored) {
          // a stray .part file is harmless: names are checked, never trusted
        }
      }

      @Override
      public void onError(Throwable t) {
        discard();
      }

      @Override
      public void onCompleted() {
        if (failed) {
          return;
        }
        if (sha != null) {
          fail(
              Status.INVALID_ARGUMENT.withDescription(
                  "bundle " + sha + " ended without its last part"));
          return;
        }
        out.onNext(stored.build());
        out.onCompleted();
      }
    };
  }

  /**
   * @return bundles served to workers so far
   */
  public long fetches() {
    return fetches.get();
  }

  @Override
  public void fetch(BundleList request, StreamObserver<BundlePart> out) {
    if (request.getSha256Count() != 1 || !Bundle.isName(request.getSha256(0))) {
      out.onError(
          Status.INVALID_ARGUMENT
              .withDescription("fetch names exactly one bundle")
              .asRuntimeException());
      return;
    }
    String sha = request.getSha256(0);
    InputStream in;
    try {
      Bundle b = own.get(sha);
      in = b != null ? b.open() : Files.newInputStream(stored(sha));
    } catch (IOException e) {
      out.onError(
          Status.NOT_FOUND.withDescription("no bundle " + sha + " here").asRuntimeException());
      return;
    }
    fetches.incrementAndGet();
    ServerCallStreamObserver<BundlePart> stream = (ServerCallStreamObserver<BundlePart>) out;
    Sender sender = new Sender(sha, in, stream);
    stream.setOnCancelHandler(sender::cancel);
    stream.setOnReadyHandler(sender);
  }

  /**
   * Streams one bundle as fast as the receiver's flow control lets it, and ends the call exactly
   * once.
   *
   * <p>gRPC calls the ready handler again whenever the call turns ready, and that goes on after the
   * last part is sent and the call ended: those late calls must find nothing to do, since ending a
   * call twice throws.
   */
  private static final class Sender implements Runnable {
    private final String sha;
    private final InputStream in;
    private final ServerCallStreamObserver<BundlePart> stream;
    private boolean ended; // guarded by this

    Sender(String sha, InputStream in, ServerCallStreamObserver<BundlePart> stream) {
      this.sha = sha;
      this.in = in;
      this.stream = stream;
    }

    @Override
    public synchronized void run() {
      try {
        while (!ended && stream.isReady()) {
          byte[] buffer = in.readNBytes(PART_BYTES);
          // Only the end of the file makes a read come back short.
          boolean last = buffer.length < PART_BYTES;
          stream.onNext(
              BundlePart.newBuilder()
                  .setSha256(sha)
                  .setData(ByteString.copyFrom(buffer))
                  .setLast(last)
                  .build());
          if (last) {
            end();
            stream.onCompleted();
          }
        }
      } catch (IOException e) {
        end();
        stream.onError(
            Status.INTERNAL.withDescription("cannot read bundle " + sha).asRuntimeException());
      }
    }

    /** The receiver went: the call is over, and nothing more is read. */
    synchronized void cancel() {
      end();
    }

    private void end() {
      ended = true;
      close(in);
    }
  }

  private static void close(InputStream in) {
    try {
      in.close();
    } catch (IOException ignored) {
      // nothing more to read either way
    }
  }
}
