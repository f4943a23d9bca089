package io.flotilla.cli.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import io.flotilla.BrokenPoolException;
import io.flotilla.ClusterPool;
import io.flotilla.MapResults;
import io.flotilla.SerializableFunction;
import io.flotilla.WorkerCrashedException;
import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three hosts on one machine: this network namespace (the coordinator, and the client: this JVM)
 * and two namespaces of their own (a worker each), joined by a bridge. Real JVMs, real TCP across
 * veth pairs, a real cable pulled. The function the workers run is compiled by the test into a jar
 * that only this JVM has: the workers can run it only because Flotilla ships it.
 *
 * <p>Runs where namespaces can be made (Linux, root, iproute2), as in CI; elsewhere it is skipped,
 * and under {@code CI=true} it fails ({@link NetnsHosts#require}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MultiHostTest {
  private static final String SECRET = UUID.randomUUID().toString();
  private static final Duration JOIN = Duration.ofSeconds(90);

  /** How long work waits with no worker before it fails, here: short, for the test that waits. */
  private static final Duration NO_WORKERS_TIMEOUT = Duration.ofSeconds(5);

  @TempDir static Path tmp;
  private NetnsHosts hosts;
  private String hostB;
  private String hostC;
  private ChildJvm coordinator;
  private ChildJvm workerB;
  private ChildJvm workerC;
  private ChildJvm workerD;
  private String address;

  @BeforeAll
  void startCoordinator() throws Exception {
    if (!NetnsHosts.usable()) {
      return; // each test skips, or fails under CI=true, saying why
    }
    long pid = ProcessHandle.current().pid();
    hosts = new NetnsHosts("fl" + pid % 10000, "10.231." + (20 + pid % 200));
    hostB = hosts.addHost(2);
    hostC = hosts.addHost(3);
    coordinator =
        new ChildJvm(
            "coordinator",
            null,
            Map.of("FLOTILLA_SECRET", SECRET),
            "coordinator",
            "--bind",
            hosts.hostAddress(),
            "--port",
            "0",
            "--cluster-port",
            "0",
            "--dashboard",
            "127.0.0.1:0",
            "--stable-after",
            "3",
            "--no-workers-timeout",
            NO_WORKERS_TIMEOUT.toSeconds() + "s",
            "--data-dir",
            tmp.resolve("coordinator").toString());
    await("the coordinator's readiness line")
        .atMost(JOIN)
        .failFast(() -> !coordinator.process().isAlive())
        .until(() -> coordinator.line("flotilla coordinator ready:") != null);
    address = coordinator.grpcAddress();
  }

  @BeforeEach
  void requireNamespaces() {
    NetnsHosts.require();
  }

  @AfterAll
  void tearDown() throws Exception {
    for (ChildJvm jvm : new ChildJvm[] {workerB, workerC, workerD, coordinator}) {
      if (jvm != null) {
        jvm.close();
      }
    }
    if (hosts != null) {
      hosts.close();
    }
  }

  private ChildJvm worker(String name, String namespace, int host, String secret, int threads)
      throws Exception {
    return new ChildJvm(
        name,
        namespace,
        Map.of("FLOTILLA_SECRET", secret),
        "worker",
        "--join",
        address,
        "--threads",
        Integer.toString(threads),
        "--bind",
        hosts.address(host),
        "--stable-after",
        "3",
        "--cache-dir",
        tmp.resolve(name).toString());
  }

  private void awaitWorkers(long ready) {
    await("workers ready at the coordinator")
        .atMost(JOIN)
        .failFast(() -> !coordinator.process().isAlive())
        .until(() -> coordinator.count("ready with") >= ready);
  }

  /** The shipped function, and a pool that ships it. */
  private record Shipped(ClusterPool pool, SerializableFunction<Integer, String> fn) {}

  @SuppressWarnings("unchecked")
  private Shipped ship(String version, int millis) throws Exception {
    Path jar =
        ProbeJar.compile(
            tmp.resolve("probe-" + version), "probe.Greeter", ProbeJar.greeter(version, millis));
    URLClassLoader loader =
        new URLClassLoader(new URL[] {jar.toUri().toURL()}, getClass().getClassLoader());
    SerializableFunction<Integer, String> fn =
        (SerializableFunction<Integer, String>)
            loader.loadClass("probe.Greeter").getConstructor().newInstance();
    ClusterPool pool =
        ClusterPool.builder(address)
            .secret(SECRET)
            .code(System.getProperty("java.class.path") + File.pathSeparator + jar, loader)
            .build();
    return new Shipped(pool, fn);
  }

  private static void assertAnswers(List<String> results, String version, int n) {
    assertThat(results).hasSize(n);
    for (int i = 0; i < n; i++) {
      assertThat(results.get(i)).startsWith(version + ":" + i + ":");
    }
  }

  private static List<String> drain(MapResults<String> mapped) {
    List<String> all = new ArrayList<>();
    try (mapped) {
      mapped.forEachRemaining(all::add);
    }
    return all;
  }

  private static Set<Long> pids(List<String> results) {
    Set<Long> pids = new HashSet<>();
    for (String r : results) {
      pids.add(Long.parseLong(r.substring(r.lastIndexOf(':') + 1)));
    }
    return pids;
  }

  @Test
  @Order(1)
  void aWorkerWithTheWrongSecretIsRefusedBeforeItJoins() throws Exception {
    try (ChildJvm intruder = worker("intruder", hostC, 3, "not-the-secret", 1)) {
      assertThat(intruder.process().waitFor(JOIN.toSeconds(), TimeUnit.SECONDS))
          .as(intruder.output())
          .isTrue();
      assertThat(intruder.process().exitValue()).as(intruder.output()).isEqualTo(64);
      assertThat(intruder.line("refused by the coordinator"))
          .as(intruder.output())
          .contains("wrong cluster secret");
    }
    assertThat(coordinator.count("ready with")).as(coordinator.output()).isZero();
  }

  @Test
  @Order(2)
  void twoJobsWithDifferentVersionsOfOneClassRunAtOnceAndEachSeesItsOwn() throws Exception {
    workerB = worker("worker-b", hostB, 2, SECRET, 2);
    awaitWorkers(1);
    Shipped v1 = ship("v1", 20);
    Shipped v2 = ship("v2", 20);
    try (ClusterPool p1 = v1.pool();
        ClusterPool p2 = v2.pool()) {
      List<Integer> items = IntStream.range(0, 60).boxed().toList();
      CompletableFuture<List<String>> first =
          CompletableFuture.supplyAsync(() -> drain(p1.map(v1.fn(), items)));
      CompletableFuture<List<String>> second =
          CompletableFuture.supplyAsync(() -> drain(p2.map(v2.fn(), items)));
      assertAnswers(first.get(2, TimeUnit.MINUTES), "v1", items.size());
      assertAnswers(second.get(2, TimeUnit.MINUTES), "v2", items.size());
      assertThat(pids(first.get())).containsExactly(taskJvm(workerB));
    }
  }

  @Test
  @Order(3)
  void aWorkerJoiningMidJobGetsWorkAndAHostCutOffMidJobLosesNothing() throws Exception {
    if (workerB == null) {
      workerB = worker("worker-b", hostB, 2, SECRET, 2);
    }
    awaitWorkers(1);
    Shipped v3 = ship("v3", 40);
    int n = 600;
    List<String> results = new ArrayList<>();
    try (ClusterPool pool = v3.pool();
        MapResults<String> mapped = pool.map(v3.fn(), IntStream.range(0, n).boxed().toList())) {
      long b = taskJvm(workerB);
      long c = -1;
      boolean cut = false;
      while (mapped.hasNext()) {
        results.add(mapped.next());
        if (results.size() == 20) {
          workerC = worker("worker-c", hostC, 3, SECRET, 1);
        }
        if (c < 0 && workerC != null) {
          c = workerC.process().children().mapToLong(ProcessHandle::pid).findFirst().orElse(-1);
        }
        if (!cut && c > 0 && pids(results).contains(c) && results.size() < n - 100) {
          hosts.linkDown(2);
          cut = true;
        }
      }
      assertThat(cut).as("worker C took work while the job ran, and B was then cut off").isTrue();
      assertAnswers(results, "v3", n);
      assertThat(pids(results)).containsExactlyInAnyOrder(b, c);
    }
    // Cut off from the coordinator, B is downed by its own side of the split brain resolver and
    // exits.
    assertThat(workerB.process().waitFor(JOIN.toSeconds(), TimeUnit.SECONDS))
        .as(workerB.output())
        .isTrue();
    assertThat(workerB.process().exitValue()).as(workerB.output()).isEqualTo(66);
    await("the coordinator reports B lost by the cluster's verdict")
        .atMost(JOIN)
        .until(
            () ->
                coordinator.line("-" + workerB.process().pid() + "-") != null
                    && coordinator.lines("lost:").stream()
                        .anyMatch(
                            l ->
                                l.contains("-" + workerB.process().pid() + "-")
                                    && (l.contains("downed by the cluster")
                                        || l.contains("removed from the cluster"))));
  }

  /**
   * @return the pid of the task JVM a worker host runs its tasks in: its one child
   */
  private static long taskJvm(ChildJvm host) {
    List<ProcessHandle> children = host.process().children().toList();
    assertThat(children).as(host.output()).hasSize(1);
    return children.get(0).pid();
  }

  /** C is still up; D joins, on a fourth host, so that two workers serve. */
  private ClusterPool twoWorkers() throws Exception {
    if (workerD == null) {
      workerD = worker("worker-d", hosts.addHost(4), 4, SECRET, 1);
    }
    ClusterPool pool = ClusterPool.builder(address).secret(SECRET).build();
    await("two workers").atMost(JOIN).until(() -> pool.workers() == 2);
    awaitBothServe(pool);
    return pool;
  }

  /** Tasks run on both hosts' task JVMs. */
  private static void awaitBothServe(ClusterPool pool) {
    Set<Long> seen = new HashSet<>();
    await("both workers serve")
        .atMost(JOIN)
        .until(
            () -> {
              List<CompletableFuture<Long>> probes = new ArrayList<>();
              for (int i = 0; i < 4; i++) {
                probes.add(pool.submit(() -> ProcessHandle.current().pid()));
              }
              for (CompletableFuture<Long> p : probes) {
                seen.add(p.get(1, TimeUnit.MINUTES));
              }
              return pool.workers() == 2 && seen.size() >= 2;
            });
  }

  @Test
  @Order(4)
  void aTaskCallingSystemExitFailsWithWorkerCrashedAndBothWorkersServeAgain() throws Exception {
    try (ClusterPool pool = twoWorkers()) {
      long c = taskJvm(workerC);
      long d = taskJvm(workerD);
      CompletableFuture<Integer> exits =
          pool.submit(
              () -> {
                System.exit(3);
                return 0;
              });
      Throwable thrown = catchThrowable(() -> exits.get(2, TimeUnit.MINUTES));
      assertThat(thrown).isInstanceOf(ExecutionException.class);
      assertThat(thrown.getCause()).isInstanceOf(WorkerCrashedException.class);
      WorkerCrashedException crash = (WorkerCrashedException) thrown.getCause();
      assertThat(crash.attempts()).as("the coordinator's default --max-attempts").isEqualTo(3);
      assertThat(crash.exitCode()).isEqualTo(3);
      assertThat(crash.host()).isNotBlank();
      // Every death was a task JVM's: both hosts are still up, and each started a fresh one.
      assertThat(workerC.process().isAlive()).as(workerC.output()).isTrue();
      assertThat(workerD.process().isAlive()).as(workerD.output()).isTrue();
      awaitBothServe(pool);
      assertThat(taskJvm(workerC)).isNotEqualTo(c);
      assertThat(taskJvm(workerD)).isNotEqualTo(d);
    }
  }

  @Test
  @Order(5)
  void cancellingARunningTaskLeavesTheClusterWithAsManyWorkers() throws Exception {
    try (ClusterPool pool = twoWorkers()) {
      Path started = tmp.resolve("started");
      String startedPath = started.toString();
      CompletableFuture<Long> stuck =
          pool.submit(
              () -> {
                Files.writeString(
                    Path.of(startedPath), Long.toString(ProcessHandle.current().pid()));
                Thread.sleep(600_000);
                return 0L;
              });
      await("the task runs")
          .atMost(JOIN)
          .until(() -> Files.exists(started) && Files.size(started) > 0);
      long running = Long.parseLong(Files.readString(started).trim());
      assertThat(stuck.cancel(true)).isTrue();
      await("its task JVM ends")
          .atMost(JOIN)
          .until(() -> ProcessHandle.of(running).map(p -> !p.isAlive()).orElse(true));
      awaitBothServe(pool);
    }
  }

  @Test
  @Order(6)
  void withEveryWorkerStoppedATaskFailsAfterTheTimeoutAndCloseReturns() throws Exception {
    ClusterPool pool = twoWorkers();
    for (ChildJvm host : new ChildJvm[] {workerC, workerD}) {
      host.signal("TERM");
      assertThat(host.waitFor(JOIN)).as(host.output()).isTrue();
      assertThat(host.process().exitValue()).as(host.output()).isZero();
    }
    await("no workers").atMost(JOIN).until(() -> pool.workers() == 0);
    CompletableFuture<String> waits = pool.submit(() -> "never");
    Throwable thrown = catchThrowable(() -> waits.get(2, TimeUnit.MINUTES));
    assertThat(thrown).isInstanceOf(ExecutionException.class);
    assertThat(thrown.getCause())
        .isInstanceOf(BrokenPoolException.class)
        .hasMessageContaining("no workers for " + NO_WORKERS_TIMEOUT.toSeconds() + " s");
    CompletableFuture<Void> closed = CompletableFuture.runAsync(pool::close);
    closed.get(1, TimeUnit.MINUTES);
  }
}
