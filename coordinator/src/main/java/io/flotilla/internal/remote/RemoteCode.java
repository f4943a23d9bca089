package io.flotilla.internal.remote;

import com.google.protobuf.ByteString;
import io.flotilla.internal.code.Bundle;
import io.flotilla.proto.BundleList;
import io.flotilla.proto.BundlePart;
import io.flotilla.proto.CodeStoreGrpc;
import io.grpc.Channel;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * Ships a client's code to its coordinator: asks which of its jars the store lacks, and uploads
 * just those. A jar unchanged since the last run, or one the coordinator has itself (Flotilla's
 * own, the libraries both use), is never sent.
 */
public final class RemoteCode {
  private static final int PART_BYTES = 1 << 20;

  private RemoteCode() {}

  /**
   * Waits until the stream takes more without buffering it: a jar of hundreds of megabytes then
   * never sits in memory whole. Returns at once if the upload has already failed.
   */
  private static void awaitReady(
      ClientCallStreamObserver<BundlePart> upload,
      Object ready,
      CompletableFuture<BundleList> stored) {
    synchronized (ready) {
      while (!upload.isReady() && !stored.isDone()) {
        try {
          ready.wait(1000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new CancellationException("interrupted while shipping code");
        }
      }
    }
  }

  /**
   * @param channel the coordinator
   * @param bundles the client's code
   * @param timeout how long to wait for the coordinator's answer
   * @return how many bytes were uploaded
   */
  public static long ship(Channel channel, List<Bundle> bundles, java.time.Duration timeout) {
    Map<String, Bundle> byName = new HashMap<>();
    for (Bundle b : bundles) {
      byName.put(b.sha256(), b);
    }
    BundleList missing =
        CodeStoreGrpc.newBlockingStub(channel)
            .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
            .missing(BundleList.newBuilder().addAllSha256(byName.keySet()).build());
    if (missing.getSha256Count() == 0) {
      return 0;
    }
    CompletableFuture<BundleList> stored = new CompletableFuture<>();
    Object ready = new Object();
    java.util.concurrent.atomic.AtomicReference<ClientCallStreamObserver<BundlePart>> requests =
        new java.util.concurrent.atomic.AtomicReference<>();
    CodeStoreGrpc.newStub(channel)
        .withDeadlineAfter(10, TimeUnit.MINUTES)
        .upload(
            new ClientResponseObserver<BundlePart, BundleList>() {
              @Override
              public void beforeStart(ClientCallStreamObserver<BundlePart> stream) {
                requests.set(stream);
                stream.setOnReadyHandler(
                    () -> {
                      synchronized (ready) {
                        ready.notifyAll();
                      }
                    });
              }

              @Override
              public void onNext(BundleList value) {
                stored.complete(value);
              }

              @Override
              public void onError(Throwable t) {
                stored.completeExceptionally(t);
                synchronized (ready) {
                  ready.notifyAll();
                }
              }

              @Override
              public void onCompleted() {
                stored.complete(BundleList.getDefaultInstance());
              }
            });
    ClientCallStreamObserver<BundlePart> upload = requests.get();
    long sent = 0;
    try {
      for (String sha : missing.getSha256List()) {
        Bundle b = byName.get(sha);
        try (InputStream in = b.open()) {
          while (true) {
            awaitReady(upload, ready, stored);
            byte[] part = in.readNBytes(PART_BYTES);
            boolean last = part.length < PART_BYTES;
            upload.onNext(
                BundlePart.newBuilder()
                    .setSha256(sha)
                    .setData(ByteString.copyFrom(part))
                    .setLast(last)
                    .build());
            sent += part.length;
            if (last) {
              break;
            }
          }
        }
      }
    } catch (IOException e) {
      upload.onError(e);
      throw new UncheckedIOException("cannot read code to ship: " + e.getMessage(), e);
    }
    upload.onCompleted();
    try {
      stored.join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof StatusRuntimeException refused ? refused : e;
    }
    return sent;
  }
}
