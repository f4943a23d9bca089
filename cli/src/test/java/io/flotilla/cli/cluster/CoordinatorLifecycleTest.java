package io.flotilla.cli.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.flotilla.BrokenPoolException;
import io.flotilla.ClusterPool;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code flotilla coordinator} and {@code flotilla worker} as processes, on loopback: how they
 * start, stop and die, and what a client and a worker are told when the coordinator goes.
 */
class CoordinatorLifecycleTest {
  private static final Duration WAIT = Duration.ofSeconds(90);
  private static final String SECRET = "lifecycle";

  @TempDir Path tmp;

  /** A jar only this JVM has, made once per test. */
  private Path probeJar;

  private ChildJvm coordinator() throws Exception {
    return ChildJvm.coordinator(tmp.resolve("data"), SECRET, WAIT);
  }

  private static String address(ChildJvm coordinator) {
    return coordinator.grpcAddress();
  }

  private ChildJvm worker(String address) throws Exception {
    return new ChildJvm(
        "worker",
        null,
        Map.of("FLOTILLA_SECRET", SECRET),
        "worker",
        "--join",
        address,
        "--threads",
        "1",
        "--cache-dir",
        tmp.resolve("code").toString());
  }

  @Test
  void aCoordinatorKilledMidTaskFailsTheTaskWithItsAddressAndItsWorkerExits() throws Exception {
    try (ChildJvm coordinator = coordinator();
        ChildJvm worker = worker(address(coordinator))) {
      await("a worker").atMost(WAIT).until(() -> coordinator.count("ready with") == 1);
      ClusterPool pool = ClusterPool.builder(address(coordinator)).secret(SECRET).build();
      String started = tmp.resolve("started").toString();
      CompletableFuture<String> running =
          pool.submit(
              () -> {
                java.nio.file.Files.createFile(java.nio.file.Path.of(started));
                Thread.sleep(60_000);
                return "too late";
              });
      await("the task runs").atMost(WAIT).until(() -> java.nio.file.Files.exists(Path.of(started)));
      coordinator.process().destroyForcibly();
      Throwable failed = catchThrowable(() -> running.get(WAIT.toSeconds(), TimeUnit.SECONDS));
      assertThat(failed)
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(BrokenPoolException.class)
          .hasMessageContaining("lost the coordinator at " + address(coordinator));
      assertThat(catchThrowable(() -> pool.submit(() -> 1)))
          .as("a broken pool takes nothing more")
          .isInstanceOf(BrokenPoolException.class);
      pool.close();
      // The worker is nobody's orphan: with its coordinator gone, it leaves, for its supervisor to
      // restart.
      assertThat(worker.process().waitFor(WAIT.toSeconds(), TimeUnit.SECONDS))
          .as(worker.output())
          .isTrue();
      assertThat(worker.process().exitValue()).as(worker.output()).isEqualTo(66);
    }
  }

  @Test
  void sigtermStopsTheCoordinatorGracefullyAndItsWorkersLeaveWithoutComplaint() throws Exception {
    try (ChildJvm coordinator = coordinator();
        ChildJvm worker = worker(address(coordinator))) {
      await("a worker").atMost(WAIT).until(() -> coordinator.count("ready with") == 1);
      ClusterPool connected = ClusterPool.builder(address(coordinator)).secret(SECRET).build();
      try (ClusterPool pool = ClusterPool.builder(address(coordinator)).secret(SECRET).build()) {
        assertThat(pool.submit(() -> "done").get(WAIT.toSeconds(), TimeUnit.SECONDS))
            .isEqualTo("done");
      }
      coordinator.signal("TERM");
      assertThat(coordinator.waitFor(WAIT)).as(coordinator.output()).isTrue();
      assertThat(coordinator.process().exitValue()).as(coordinator.output()).isZero();
      // A client still connected is told why, not left to guess from a broken stream.
      await("the connected client hears")
          .atMost(WAIT)
          .until(
              () -> catchThrowable(() -> connected.submit(() -> 1)) instanceof BrokenPoolException);
      assertThat(catchThrowable(() -> connected.submit(() -> 1)))
          .hasMessageContaining("the coordinator is stopping");
      connected.close();
      assertThat(worker.waitFor(WAIT)).as(worker.output()).isTrue();
      // Its coordinator said it was stopping: nothing for a supervisor to restart, nothing to warn
      // of.
      assertThat(worker.process().exitValue()).as(worker.output()).isZero();
      assertThat(coordinator.line("stopping on SIGTERM")).as(coordinator.output()).contains("INFO");
      assertThat(worker.line("is stopping")).as(worker.output()).contains("INFO");
      assertNoComplaint(coordinator);
      assertNoComplaint(worker);
    }
  }

  @Test
  void sigtermStopsAWorkerGracefullyAndItsCoordinatorSaysItLeft() throws Exception {
    try (ChildJvm coordinator = coordinator();
        ChildJvm worker = worker(address(coordinator))) {
      await("a worker").atMost(WAIT).until(() -> coordinator.count("ready with") == 1);
      ProcessHandle taskJvm = taskJvm(worker);
      worker.signal("TERM");
      assertThat(worker.waitFor(WAIT)).as(worker.output()).isTrue();
      assertThat(worker.process().exitValue()).as(worker.output()).isZero();
      assertThat(taskJvm.isAlive()).as("its task JVM stopped with it").isFalse();
      assertThat(worker.line("stopping on SIGTERM")).as(worker.output()).contains("INFO");
      await("the coordinator hears the worker left")
          .atMost(WAIT)
          .until(() -> coordinator.line(" left") != null);
      assertThat(coordinator.line(" left"))
          .as(coordinator.output())
          .contains("INFO")
          .contains("SIGTERM");
      assertThat(coordinator.process().isAlive()).as(coordinator.output()).isTrue();
      assertNoComplaint(coordinator);
      assertNoComplaint(worker);
    }
  }

  /** The JVM that runs a worker host's tasks: its one child process. */
  private static ProcessHandle taskJvm(ChildJvm worker) {
    List<ProcessHandle> children = worker.process().children().toList();
    assertThat(children).as(worker.output()).hasSize(1);
    return children.get(0);
  }

  @Test
  void aWorkerHostStartsItsTaskJvmAgainAfterEachDeathReusesItsCodeAndKilledLeavesNoOrphan()
      throws Exception {
    try (ChildJvm coordinator = coordinator();
        ChildJvm worker = worker(address(coordinator))) {
      await("a worker").atMost(WAIT).until(() -> coordinator.count("ready with") == 1);
      try (ClusterPool pool = ClusterPool.builder(address(coordinator)).secret(SECRET).build()) {
        ProcessHandle first = taskJvm(worker);
        assertThat(pool.submit(() -> ProcessHandle.current().pid()).get(1, TimeUnit.MINUTES))
            .isEqualTo(first.pid());
        first.destroyForcibly();
        // The host stays, in the cluster, and its fresh task JVM attaches as a new worker.
        await("a fresh task JVM").atMost(WAIT).until(() -> coordinator.count("ready with") == 2);
        assertThat(worker.process().isAlive()).as(worker.output()).isTrue();
        assertThat(worker.line("starting a fresh one (restart 1"))
            .as(worker.output())
            .contains("on signal 9");
        ProcessHandle second = taskJvm(worker);
        assertThat(second.pid()).isNotEqualTo(first.pid());
        assertThat(pool.submit(() -> ProcessHandle.current().pid()).get(1, TimeUnit.MINUTES))
            .isEqualTo(second.pid());
        // Code a client shipped is fetched into the host's cache once: a fresh task JVM finds it
        // there.
        Map<Path, java.nio.file.attribute.FileTime> cached = runShipped(address(coordinator));
        assertThat(cached).as("the shipped jar, cached").isNotEmpty();
        second.destroyForcibly();
        await("another fresh task JVM")
            .atMost(WAIT)
            .until(() -> coordinator.count("ready with") == 3);
        assertThat(runShipped(address(coordinator))).isEqualTo(cached);
        ProcessHandle third = taskJvm(worker);
        // Killed, the host takes its task JVM with it: the pipe to the task JVM's stdin closes.
        worker.process().destroyForcibly();
        await("the task JVM of a killed host ends").atMost(WAIT).until(() -> !third.isAlive());
      }
    }
  }

  /**
   * Runs a function from a jar only this JVM has, which the worker fetches from the coordinator.
   *
   * @return the files in the worker's code cache, with their modification times
   */
  @SuppressWarnings("unchecked")
  private Map<Path, java.nio.file.attribute.FileTime> runShipped(String address) throws Exception {
    if (probeJar == null) {
      probeJar = ProbeJar.compile(tmp.resolve("probe"), "probe.Greeter", ProbeJar.greeter("v1", 0));
    }
    Path jar = probeJar;
    try (java.net.URLClassLoader loader =
            new java.net.URLClassLoader(
                new java.net.URL[] {jar.toUri().toURL()}, getClass().getClassLoader());
        ClusterPool shipping =
            ClusterPool.builder(address)
                .secret(SECRET)
                .code(
                    System.getProperty("java.class.path") + java.io.File.pathSeparator + jar,
                    loader)
                .build()) {
      io.flotilla.SerializableFunction<Integer, String> fn =
          (io.flotilla.SerializableFunction<Integer, String>)
              loader.loadClass("probe.Greeter").getConstructor().newInstance();
      assertThat(shipping.submit(fn, 7).get(1, TimeUnit.MINUTES)).startsWith("v1:7:");
    }
    Map<Path, java.nio.file.attribute.FileTime> files = new java.util.TreeMap<>();
    try (java.util.stream.Stream<Path> all = java.nio.file.Files.walk(tmp.resolve("code"))) {
      for (Path f : all.filter(java.nio.file.Files::isRegularFile).toList()) {
        files.put(f, java.nio.file.Files.getLastModifiedTime(f));
      }
    }
    return files;
  }

  @Test
  void sigintStopsTheCoordinatorGracefully() throws Exception {
    // A process started with SIGINT ignored (in the background of a script) passes that on to its
    // children, and nothing can catch it there.
    assumeTrue(!sigintIgnored(), "SIGINT is ignored in this process and its children");
    try (ChildJvm coordinator = coordinator()) {
      coordinator.signal("INT");
      assertThat(coordinator.waitFor(WAIT)).as(coordinator.output()).isTrue();
      assertThat(coordinator.process().exitValue()).as(coordinator.output()).isZero();
      assertThat(coordinator.line("stopping on SIGINT")).as(coordinator.output()).contains("INFO");
      assertNoComplaint(coordinator);
    }
  }

  @Test
  void theReadyLineEndsWithWhereMetricsAreServedAndPrometheusCanReadThem() throws Exception {
    try (ChildJvm coordinator = coordinator()) {
      String ready = coordinator.line("flotilla coordinator ready:");
      java.util.regex.Matcher m =
          java.util.regex.Pattern.compile(" metrics=(http://127\\.0\\.0\\.1:(\\d+)/metrics)$")
              .matcher(ready);
      assertThat(m.find()).as(ready).isTrue();
      assertThat(Integer.parseInt(m.group(2))).as("port 0 picked a free port").isPositive();
      java.net.http.HttpResponse<String> page =
          java.net.http.HttpClient.newHttpClient()
              .send(
                  java.net.http.HttpRequest.newBuilder(java.net.URI.create(m.group(1))).build(),
                  java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(page.statusCode()).isEqualTo(200);
      assertThat(page.body()).contains("flotilla_workers{state=\"ready\"} 0.0");
    }
  }

  @Test
  void dashboardOffServesNoMetrics() throws Exception {
    try (ChildJvm coordinator =
        new ChildJvm(
            "coordinator",
            null,
            Map.of("FLOTILLA_SECRET", SECRET),
            "coordinator",
            "--port",
            "0",
            "--cluster-port",
            "0",
            "--dashboard",
            "off",
            "--data-dir",
            tmp.resolve("data").toString())) {
      await("the ready line")
          .atMost(WAIT)
          .failFast(() -> !coordinator.process().isAlive())
          .until(() -> coordinator.line("flotilla coordinator ready:") != null);
      assertThat(coordinator.line("flotilla coordinator ready:")).doesNotContain("metrics=");
    }
  }

  @Test
  void aClusterPortInUseIsAWrongSettingNamedInOneLine() throws Exception {
    try (java.net.ServerSocket taken =
            new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
        ChildJvm coordinator =
            new ChildJvm(
                "coordinator",
                null,
                Map.of("FLOTILLA_SECRET", SECRET),
                "coordinator",
                "--port",
                "0",
                "--cluster-port",
                Integer.toString(taken.getLocalPort()),
                "--dashboard",
                "127.0.0.1:0",
                "--data-dir",
                tmp.resolve("data").toString())) {
      assertThat(coordinator.waitFor(WAIT)).as(coordinator.output()).isTrue();
      assertThat(coordinator.process().exitValue()).as(coordinator.output()).isEqualTo(2);
      assertThat(coordinator.line("flotilla coordinator: "))
          .as(coordinator.output())
          .contains("cluster port")
          .contains(Integer.toString(taken.getLocalPort()));
    }
  }

  private static void assertNoComplaint(ChildJvm jvm) {
    assertThat(jvm.lines(" WARN ")).as(jvm.output()).isEmpty();
    assertThat(jvm.lines(" ERROR ")).as(jvm.output()).isEmpty();
  }

  /**
   * @return whether this JVM was started with SIGINT ignored, as its children then are
   */
  private static boolean sigintIgnored() throws java.io.IOException {
    for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("SigIgn:")) {
        return (Long.parseUnsignedLong(line.substring(7).trim(), 16) & (1L << (2 - 1))) != 0;
      }
    }
    return false;
  }

  @Test
  void theCoordinatorRefusesToStartOpenOnEveryInterface() throws Exception {
    ChildJvm open =
        new ChildJvm(
            "open",
            null,
            Map.of(),
            "coordinator",
            "--bind",
            "0.0.0.0",
            "--port",
            "0",
            "--cluster-port",
            "0",
            "--dashboard",
            "127.0.0.1:0");
    try (open) {
      assertThat(open.process().waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
      assertThat(open.process().exitValue()).isEqualTo(2);
      assertThat(open.output()).contains("refusing to listen on 0.0.0.0 without a cluster secret");
    }
  }
}
