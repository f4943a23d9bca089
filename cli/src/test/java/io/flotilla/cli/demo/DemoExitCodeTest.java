package io.flotilla.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.BrokenPoolException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/**
 * Which exit code each failure of the demo gets; {@link DemoExitTest} runs the main ones for real.
 */
class DemoExitCodeTest {
  private static Throwable broken(Status status) {
    return new BrokenPoolException(
        "the coordinator said " + status.getCode(), new StatusRuntimeException(status));
  }

  @Test
  void theCoordinatorsAnswerDecides() {
    assertThat(DemoCommand.exitCode(broken(Status.UNAUTHENTICATED))).isEqualTo(DemoCommand.REFUSED);
    assertThat(DemoCommand.exitCode(broken(Status.PERMISSION_DENIED)))
        .isEqualTo(DemoCommand.REFUSED);
    assertThat(DemoCommand.exitCode(broken(Status.UNAVAILABLE))).isEqualTo(DemoCommand.UNREACHABLE);
    assertThat(DemoCommand.exitCode(new CompletionException(broken(Status.DEADLINE_EXCEEDED))))
        .isEqualTo(DemoCommand.UNREACHABLE);
    assertThat(DemoCommand.exitCode(broken(Status.INTERNAL))).isEqualTo(DemoCommand.FAILED);
  }

  @Test
  void otherFailuresAreNeitherRefusalsNorDifferentResults() {
    assertThat(
            DemoCommand.exitCode(new BrokenPoolException("no worker JVM could be started", null)))
        .isEqualTo(DemoCommand.FAILED);
    assertThat(DemoCommand.exitCode(new IllegalStateException("a workload failed")))
        .isEqualTo(DemoCommand.FAILED);
    assertThat(DemoCommand.FAILED)
        .isNotIn(DemoCommand.OK, DemoCommand.RESULTS_DIFFER, DemoCommand.REFUSED);
    assertThat(DemoCommand.REFUSED).isNotEqualTo(DemoCommand.RESULTS_DIFFER);
  }
}
