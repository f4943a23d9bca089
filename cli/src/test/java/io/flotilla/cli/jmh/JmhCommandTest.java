package io.flotilla.cli.jmh;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/**
 * {@code flotilla jmh} reaches JMH with its arguments untouched and JMH finds the microbenchmarks
 * on the command's class path. Lists them only: running them is {@code ./flotilla jmh}'s job, not
 * the build's.
 */
@Timeout(60)
class JmhCommandTest {
  @Test
  void listsEveryMicrobenchmark() {
    PrintStream original = System.out;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    int status;
    try {
      status = new CommandLine(new Main()).execute("jmh", "-l");
    } finally {
      System.setOut(original);
    }
    assertThat(status).isZero();
    assertThat(bytes.toString(StandardCharsets.UTF_8).lines())
        .contains(
            "io.flotilla.microbench.CodecBenchmark.encodeIntegers1k",
            "io.flotilla.microbench.CodecBenchmark.lambdaTaskRoundTrip",
            "io.flotilla.internal.scheduler.DispatchBenchmark.oneChunkInFlight",
            "io.flotilla.microbench.MapReorderBenchmark.mapThroughWindow",
            "io.flotilla.internal.scheduler.ResultDeliveryBenchmark.deliverAndGet");
  }
}
