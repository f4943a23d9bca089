package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flotilla.internal.code.Bundle;
import io.flotilla.internal.link.CoordinatorChannel;
import io.flotilla.proto.BundleList;
import io.flotilla.proto.BundlePart;
import io.flotilla.proto.CodeStoreGrpc;
import io.grpc.ManagedChannel;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The coordinator's code store over a real socket, as a worker fetches from it: the store is in
 * this JVM, so what gRPC logs about its calls can be seen here.
 */
@FlotillaTest
class CodeStoreTest {
  // gRPC logs through java.util.logging; a logger is only weakly held, so the test keeps it.
  private static final Logger GRPC = Logger.getLogger("io.grpc");

  @Test
  void aFetchStreamsTheBundleAndEndsItsCallOnce(@TempDir Path dir) throws Exception {
    List<LogRecord> errors = new CopyOnWriteArrayList<>();
    Handler capture =
        new Handler() {
          @Override
          public void publish(LogRecord record) {
            if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
              errors.add(record);
            }
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    GRPC.addHandler(capture);
    try (RemoteWorkers coordinator = new RemoteWorkers(dir)) {
      ManagedChannel channel =
          CoordinatorChannel.builder(
                  "127.0.0.1", coordinator.server().port(), null, RemoteWorkers.SECRET)
              .build();
      try {
        // The coordinator serves the jars of its own class path: the largest takes many parts, and
        // so
        // many turns of flow control, and the smallest one part.
        List<Bundle> own = Bundle.ofClassPath(System.getProperty("java.class.path"));
        Bundle largest =
            own.stream().max(Comparator.comparingLong(CodeStoreTest::size)).orElseThrow();
        Bundle smallest =
            own.stream().min(Comparator.comparingLong(CodeStoreTest::size)).orElseThrow();
        assertThat(size(largest)).as("a bundle of several parts").isGreaterThan(3L << 20);
        for (Bundle b : List.of(largest, smallest)) {
          ByteArrayOutputStream got = new ByteArrayOutputStream();
          Iterator<BundlePart> parts =
              CodeStoreGrpc.newBlockingStub(channel)
                  .withDeadlineAfter(60, TimeUnit.SECONDS)
                  .fetch(BundleList.newBuilder().addSha256(b.sha256()).build());
          parts.forEachRemaining(p -> got.writeBytes(p.getData().toByteArray()));
          assertThat(Bundle.sha256(got.toByteArray())).isEqualTo(b.sha256());
        }
        // A call ended twice is reported by gRPC from a callback that may run just after the client
        // has
        // its last part: watch for a while.
        await("no errors from the fetches")
            .during(Duration.ofSeconds(2))
            .atMost(Duration.ofSeconds(10))
            .untilAsserted(
                () ->
                    assertThat(errors)
                        .as("gRPC's warnings and errors")
                        .extracting(r -> r.getMessage() + " " + r.getThrown())
                        .isEmpty());
      } finally {
        channel.shutdownNow();
      }
    } finally {
      GRPC.removeHandler(capture);
    }
  }

  private static long size(Bundle b) {
    try {
      return b.size();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
