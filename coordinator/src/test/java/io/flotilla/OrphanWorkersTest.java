package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pool never leaves worker processes behind: not after close(), not after its JVM is SIGKILLed.
 */
@FlotillaTest
class OrphanWorkersTest {

  @Test
  void noWorkerProcessRemainsAfterClose() throws Exception {
    ProcessPool pool = Pools.process(ProcessPool.builder().workers(2));
    List<Long> pids;
    try {
      Pools.awaitAllWorkersReady(pool);
      pids = pool.workerPids();
      assertThat(pids).hasSize(2).allMatch(Processes::isRunning);
    } finally {
      pool.close();
    }
    assertThat(pool.isTerminated()).isTrue();
    Processes.awaitAllGone(pids, TestTime.LONG);
    assertThat(pool.workerPids()).isEmpty();
  }

  @Test
  void noWorkerProcessRemainsAfterTheParentJvmIsKilled(@TempDir Path temp) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(
        List.of(
            "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED",
            "-cp",
            System.getProperty("java.class.path"),
            OrphanProbeMain.class.getName()));
    // Files rather than pipes: nothing has to keep draining them, and they can be shown when it
    // fails.
    Path out = temp.resolve("child.out");
    Path err = temp.resolve("child.err");
    Process parent =
        new ProcessBuilder(command)
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    List<Long> pids;
    try {
      String line = awaitAnnouncement(parent, out, err);
      assertThat(line).as(() -> "the child failed:\n" + read(out) + read(err)).startsWith("PIDS ");
      pids = Arrays.stream(line.substring(5).trim().split(" ")).map(Long::valueOf).toList();
      assertThat(pids).hasSize(2).allMatch(Processes::isRunning);
    } finally {
      parent.destroyForcibly(); // SIGKILL: no shutdown hook runs, the pool is never closed
      parent.waitFor(TestTime.LONG.toMillis(), TimeUnit.MILLISECONDS);
    }
    assertThat(parent.exitValue()).as("killed by SIGKILL").isEqualTo(137);
    Processes.awaitAllGone(pids, TestTime.scaled(Duration.ofSeconds(15)));
  }

  /**
   * @return the child's PIDS or FAILED line; on a timeout, fails with the child's thread dump
   */
  private static String awaitAnnouncement(Process parent, Path out, Path err) throws Exception {
    try {
      return await("the child JVM to start a pool and print its worker pids")
          .atMost(TestTime.LONG)
          .pollInterval(Duration.ofMillis(50))
          .until(() -> announcement(parent, out), line -> line != null);
    } catch (ConditionTimeoutException hung) {
      // SIGQUIT: the JVM prints every thread's stack to its stdout and carries on. The shell's own
      // kill:
      // /bin/kill (procps) is not on every machine, /bin/sh is.
      new ProcessBuilder("/bin/sh", "-c", "kill -QUIT \"$1\"", "sh", Long.toString(parent.pid()))
          .start()
          .waitFor();
      await().atMost(Duration.ofSeconds(5)).until(() -> read(out).contains("Full thread dump"));
      throw new AssertionError(
          "the child JVM printed no worker pids within "
              + TestTime.LONG
              + ":\n"
              + read(out)
              + read(err),
          hung);
    }
  }

  private static String announcement(Process parent, Path out) throws IOException {
    for (String line : Files.readAllLines(out)) {
      if (line.startsWith("PIDS ") || line.startsWith("FAILED ")) {
        return line;
      }
    }
    if (!parent.isAlive()) {
      return "FAILED: exited with code " + parent.exitValue() + " without printing its worker pids";
    }
    return null;
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      return "(cannot read " + file + ": " + e + ")\n";
    }
  }
}
