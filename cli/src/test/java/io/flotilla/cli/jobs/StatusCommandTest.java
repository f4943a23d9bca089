package io.flotilla.cli.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.proto.JobStatus;
import org.junit.jupiter.api.Test;

/** How {@code flotilla status} words a job whose inputs wait for workers. */
class StatusCommandTest {
  @Test
  void aJobWaitingForWorkersSaysHowManyInputsWaitAndHowLong() {
    JobStatus waiting = JobStatus.newBuilder().setPending(12).setWaitingForWorkersMs(8_400).build();
    assertThat(StatusCommand.waitLine(waiting)).isEqualTo("no workers: 12 inputs waiting for 8 s");
    assertThat(StatusCommand.waitLine(waiting.toBuilder().setWaitingForWorkersMs(300).build()))
        .isEqualTo("no workers: 12 inputs waiting for 300 ms");
  }

  @Test
  void aJobWithWorkersGetsNoSuchLine() {
    assertThat(StatusCommand.waitLine(JobStatus.newBuilder().setPending(12).build())).isNull();
  }
}
