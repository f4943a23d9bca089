package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A pool never leaves worker processes behind: not after close(), not after its JVM is SIGKILLed. */
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
  void noWorkerProcessRemainsAfterTheParentJvmIsKilled() throws Exception {
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
    Process parent = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    List<Long> pids = List.of();
    try {
      CompletableFuture<List<Long>> announced =
          CompletableFuture.supplyAsync(
              () -> {
                try (BufferedReader out =
                    new BufferedReader(new InputStreamReader(parent.getInputStream(), StandardCharsets.UTF_8))) {
                  for (String line; (line = out.readLine()) != null; ) {
                    if (line.startsWith("PIDS ")) {
                      List<Long> found =
                          Arrays.stream(line.substring(5).trim().split(" ")).map(Long::valueOf).toList();
                      // keep draining, so that the child never blocks on a full pipe
                      CompletableFuture.runAsync(() -> drain(out));
                      return found;
                    }
                  }
                  throw new IllegalStateException("the child JVM exited without printing its worker pids");
                } catch (java.io.IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
              });
      pids = announced.get(TestTime.LONG.toMillis(), TimeUnit.MILLISECONDS);
      assertThat(pids).hasSize(2).allMatch(Processes::isRunning);
    } finally {
      parent.destroyForcibly(); // SIGKILL: no shutdown hook runs, the pool is never closed
      parent.waitFor(TestTime.LONG.toMillis(), TimeUnit.MILLISECONDS);
    }
    assertThat(parent.exitValue()).as("killed by SIGKILL").isEqualTo(137);
    Processes.awaitAllGone(pids, TestTime.scaled(java.time.Duration.ofSeconds(15)));
  }

  private static void drain(BufferedReader out) {
    try {
      while (out.readLine() != null) {
        // discard
      }
    } catch (java.io.IOException ignored) {
      // the child is gone
    }
  }
}
