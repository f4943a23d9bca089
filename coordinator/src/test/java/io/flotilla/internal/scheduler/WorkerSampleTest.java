package io.flotilla.internal.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.proto.CoordinatorMessage;
import io.flotilla.proto.Sample;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.Test;

/**
 * What a handle keeps of a worker's samples, without the scheduler; real workers' samples arriving
 * are {@code io.flotilla.WorkerSamplesTest}'s.
 */
class WorkerSampleTest {
  private static final StreamObserver<CoordinatorMessage> NOWHERE =
      new StreamObserver<>() {
        @Override
        public void onNext(CoordinatorMessage value) {}

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {}
      };

  private static Sample cpu(long nanos) {
    return Sample.newBuilder().setHeapUsedBytes(10).setCpuNanos(nanos).setGcNanos(3).build();
  }

  @Test
  void coresUsedAreCpuTimeOverWallTimeBetweenTwoSamples() {
    WorkerHandle w = new WorkerHandle("w1", 1, "here", 2, 8, "17.0.9", "0.1.0", 1_000, NOWHERE);
    assertThat(w.sample()).isNull();
    assertThat(w.lastHeardNanos()).isEqualTo(1_000);

    w.sampled(cpu(5_000_000_000L), 2_000_000_000L);
    assertThat(w.sample().coresUsed()).as("nothing to compare the first with").isNaN();
    assertThat(w.sample().heapUsedBytes()).isEqualTo(10);
    assertThat(w.sample().gcNanos()).isEqualTo(3);

    // 1.5 s of CPU in 1 s of wall time: one and a half cores.
    w.sampled(cpu(6_500_000_000L), 3_000_000_000L);
    assertThat(w.sample().coresUsed()).isEqualTo(1.5);
    assertThat(w.sample().atNanos()).isEqualTo(3_000_000_000L);

    // A total that goes back (a confused peer) reads as idle, not as negative cores.
    w.sampled(cpu(1), 4_000_000_000L);
    assertThat(w.sample().coresUsed()).isZero();

    w.heard(5_000_000_000L);
    assertThat(w.lastHeardNanos()).isEqualTo(5_000_000_000L);
  }

  @Test
  void aHandleNamesItsStateAsStatusShowsIt() {
    WorkerHandle w = new WorkerHandle("w1", 1, "here", 2, 8, NOWHERE);
    assertThat(w.javaVersion).isEmpty();
    assertThat(w.flotillaVersion).isEmpty();
    w.markReady();
    assertThat(w.state()).isEqualTo("ready");
    w.retire();
    assertThat(w.state()).isEqualTo("retiring");
    w.markUnreachable();
    assertThat(w.state()).isEqualTo("unreachable");
    w.markReachable();
    w.detach();
    assertThat(w.state()).isEqualTo("retiring");
    WorkerHandle gone = new WorkerHandle("w2", 2, "here", 2, 8, NOWHERE);
    gone.markReady();
    gone.detach();
    assertThat(gone.state()).isEqualTo("detached");
  }
}
