package io.flotilla.cli.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flotilla.ClusterPool;
import io.flotilla.MapOptions;
import io.flotilla.MapResults;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker host cut off mid-map: its chunks run on the other host as soon as the cluster's failure
 * detector finds it unreachable, not once the cluster downs it. The split brain resolver here waits
 * 20 seconds before it downs anyone, so a map that finishes within seconds of the verdict can only
 * have finished through the unreachable path. A host whose cable is plugged back in before then
 * drops the chunks that ran elsewhere, and takes work again.
 *
 * <p>Three hosts on one machine, as in {@link MultiHostTest}: the coordinator (and this JVM, the
 * client) in this network namespace, a worker in each of two namespaces of their own. Tasks name
 * the host that ran them by its address in its namespace, not by a process id: a worker's tasks may
 * run in a process other than the {@code flotilla worker} one.
 *
 * <p>Runs where namespaces can be made (Linux, root, iproute2), as in CI; elsewhere it is skipped,
 * and under {@code CI=true} it fails ({@link NetnsHosts#require}).
 */
class UnreachableHostTest {
  private static final String SECRET = UUID.randomUUID().toString();
  private static final Duration JOIN = Duration.ofSeconds(90);

  /** Long enough that the map cannot be waiting for the cluster to down the host. */
  private static final String STABLE_AFTER = "20";

  /**
   * From the unreachable verdict to the map's last result. The rerun chunks take a fraction of a
   * second; the bound is loose because the machine running the tests is often busy, and still far
   * below {@link #STABLE_AFTER}.
   */
  private static final Duration RERUN_WITHIN = Duration.ofSeconds(10);

  private static final Pattern VERDICT =
      Pattern.compile("^(\\d\\d:\\d\\d:\\d\\d\\.\\d\\d\\d) .*unreachable: its (\\d+) chunks");

  private static final Pattern REACHABLE =
      Pattern.compile(
          "^(\\d\\d:\\d\\d:\\d\\d\\.\\d\\d\\d) .*reachable again: told to drop (\\d+) chunks");

  /** The zone of the coordinator's log's clock: this machine's, which the child inherits. */
  private static final ZoneId LOG_ZONE = ZoneId.systemDefault();

  @TempDir Path tmp;
  private NetnsHosts hosts;
  private final List<ChildJvm> jvms = new ArrayList<>();

  @BeforeEach
  void requireNamespaces() {
    NetnsHosts.require();
  }

  @AfterEach
  void tearDown() throws Exception {
    Collections.reverse(jvms);
    for (ChildJvm jvm : jvms) {
      jvm.close();
    }
    if (hosts != null) {
      hosts.close();
    }
  }

  private ChildJvm start(ChildJvm jvm) {
    jvms.add(jvm);
    return jvm;
  }

  private ChildJvm worker(String name, String namespace, int host, String join) throws Exception {
    return start(
        new ChildJvm(
            name,
            namespace,
            Map.of("FLOTILLA_SECRET", SECRET),
            "worker",
            "--join",
            join,
            "--threads",
            "2",
            "--bind",
            hosts.address(host),
            "--stable-after",
            STABLE_AFTER,
            "--cache-dir",
            tmp.resolve(name).toString()));
  }

  /** A result and when the client got it. */
  private record Arrival(String value, LocalTime at) {}

  /** A coordinator and two worker hosts, A (host 2) and B (host 3), each worker ready. */
  private record Cluster(
      ChildJvm coordinator, String address, ChildJvm workerA, ChildJvm workerB) {}

  private Cluster startCluster() throws Exception {
    long pid = ProcessHandle.current().pid();
    hosts = new NetnsHosts("fu" + pid % 10000, "10.232." + (20 + pid % 200));
    String hostA = hosts.addHost(2);
    String hostB = hosts.addHost(3);
    ChildJvm coordinator =
        start(
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
                STABLE_AFTER,
                "--data-dir",
                tmp.resolve("coordinator").toString()));
    await("the coordinator's readiness line")
        .atMost(JOIN)
        .failFast(() -> !coordinator.process().isAlive())
        .until(() -> coordinator.line("flotilla coordinator ready:") != null);
    String address = coordinator.grpcAddress();
    ChildJvm workerA = worker("worker-a", hostA, 2, address);
    ChildJvm workerB = worker("worker-b", hostB, 3, address);
    await("both workers ready at the coordinator")
        .atMost(JOIN)
        .failFast(() -> !coordinator.process().isAlive())
        .until(() -> coordinator.count("ready with") >= 2);
    return new Cluster(coordinator, address, workerA, workerB);
  }

  @Test
  void aHostCutOffMidMapHasItsChunksRunElsewhereWithinSecondsOfTheVerdict() throws Exception {
    Cluster cluster = startCluster();
    ChildJvm coordinator = cluster.coordinator();
    String a = hosts.address(2);
    String b = hosts.address(3);

    // Small chunks, so that both hosts always hold some (the default would hand each run thread a
    // quarter of the input at once); few enough items that the map's window (four chunks per run
    // thread) holds nearly all that is left by the time of the verdict, so that what follows the
    // verdict is B's chunks and little else.
    int n = 96;
    List<Arrival> arrivals = new ArrayList<>();
    LocalTime cut = null;
    try (ClusterPool pool = ClusterPool.builder(cluster.address()).secret(SECRET).build();
        MapResults<String> mapped =
            pool.map(
                i -> whereItRan(i, null),
                IntStream.range(0, n).boxed().toList(),
                MapOptions.defaults().chunkSize(4))) {
      while (mapped.hasNext()) {
        String value = mapped.next();
        arrivals.add(new Arrival(value, now()));
        if (cut == null && arrivals.size() >= 16 && value.endsWith("@" + b)) {
          hosts.linkDown(3);
          cut = now();
        }
      }
    }

    assertThat(cut).as("host B ran some of the first items, and was then cut off").isNotNull();
    assertEachOnceInOrder(arrivals, n, a, b);
    String ran = String.join(" ", arrivals.stream().map(Arrival::value).toList());
    Matcher verdict = awaitLine(coordinator, VERDICT);
    assertThat(Integer.parseInt(verdict.group(2)))
        .as("B held chunks when it was cut off: " + verdict.group() + "; the map ran " + ran)
        .isPositive();
    LocalTime judged = LocalTime.parse(verdict.group(1));
    LocalTime last = arrivals.get(n - 1).at();
    long verdictToLast = millisBetween(judged, last);
    // The ordered map stalls on B's first chunk: the longest wait between two results after the
    // cut, and the result that ends it, B's first chunk done elsewhere.
    long stall = 0;
    LocalTime resumed = last;
    for (int i = 1; i < n; i++) {
      LocalTime at = arrivals.get(i).at();
      long gap = millisBetween(arrivals.get(i - 1).at(), at);
      if (!at.isBefore(cut) && gap > stall) {
        stall = gap;
        resumed = at;
      }
    }
    System.out.printf(
        "UnreachableHostTest: cut to unreachable verdict %d ms; verdict to the map moving again %d"
            + " ms, to its last result %d ms; the map stalled %d ms (%s)%n",
        millisBetween(cut, judged),
        millisBetween(judged, resumed),
        verdictToLast,
        stall,
        verdict.group());
    assertThat(Duration.ofMillis(verdictToLast))
        .as("B's chunks finished elsewhere soon after the verdict, long before B is downed")
        .isLessThan(RERUN_WITHIN);
    assertThat(coordinator.lines("lost:"))
        .as("B is not downed yet: its chunks ran elsewhere only because it was unreachable")
        .isEmpty();
    assertThat(cluster.workerB().process().isAlive()).as(cluster.workerB().output()).isTrue();
  }

  @Test
  void aHostReconnectedBeforeItIsDownedDropsWhatRanElsewhereAndTakesWorkAgain() throws Exception {
    Cluster cluster = startCluster();
    ChildJvm coordinator = cluster.coordinator();
    String a = hosts.address(2);
    String b = hosts.address(3);

    // B is slow: one item of its takes longer than the cut lasts (the verdict, then the way back:
    // about 8 s), so that it still runs a chunk that ran elsewhere when it is reconnected, and must
    // be told to drop it. (Work stealing may leave B's chunk a single item: the item must outlast
    // the cut by itself.)
    int n = 200;
    List<Arrival> arrivals = new ArrayList<>();
    LocalTime cut = null;
    LocalTime healed = null;
    try (ClusterPool pool = ClusterPool.builder(cluster.address()).secret(SECRET).build();
        MapResults<String> mapped =
            pool.map(
                i -> whereItRan(i, b),
                IntStream.range(0, n).boxed().toList(),
                MapOptions.defaults().chunkSize(4))) {
      while (mapped.hasNext()) {
        String value = mapped.next();
        arrivals.add(new Arrival(value, now()));
        if (cut == null && arrivals.size() >= 8 && value.endsWith("@" + b)) {
          hosts.linkDown(3);
          cut = now();
        } else if (cut != null && healed == null && coordinator.line("unreachable: its") != null) {
          // The map moved on, so B's chunks ran elsewhere: plug B back in.
          hosts.linkUp(3);
          healed = now();
        }
      }
    }

    assertThat(healed).as("B was cut off and plugged back in during the map").isNotNull();
    assertEachOnceInOrder(arrivals, n, a, b);
    Matcher verdict = awaitLine(coordinator, VERDICT);
    Matcher back = awaitLine(coordinator, REACHABLE);
    LocalTime reachable = LocalTime.parse(back.group(1));
    LocalTime cutAt = cut;
    long fromB =
        arrivals.stream().filter(r -> r.value().endsWith("@" + b) && r.at().isAfter(cutAt)).count();
    System.out.printf(
        "UnreachableHostTest: cut to unreachable verdict %d ms; plugged back in %d ms after it;"
            + " reachable again %d ms after that (%s); B answered %d items after it%n",
        millisBetween(cut, LocalTime.parse(verdict.group(1))),
        millisBetween(LocalTime.parse(verdict.group(1)), healed),
        millisBetween(healed, reachable),
        back.group(),
        fromB);
    assertThat(Integer.parseInt(back.group(2)))
        .as("B was told to drop the chunks it still held, which ran elsewhere")
        .isPositive();
    assertThat(fromB)
        .as("B took work again: nothing of its cut-off runs reaches the client, only new work")
        .isPositive();
    assertThat(coordinator.lines("lost:")).as(coordinator.output()).isEmpty();
    assertThat(cluster.workerB().process().isAlive()).as(cluster.workerB().output()).isTrue();
  }

  private static void assertEachOnceInOrder(List<Arrival> arrivals, int n, String a, String b) {
    assertThat(arrivals).hasSize(n);
    for (int i = 0; i < n; i++) {
      String value = arrivals.get(i).value();
      assertThat(value).as("each item answered once, in order").startsWith(i + "@");
      assertThat(value.substring(value.indexOf('@') + 1)).isIn(a, b);
    }
  }

  private static Matcher awaitLine(ChildJvm jvm, Pattern pattern) {
    await("a line matching " + pattern)
        .atMost(JOIN)
        .failFast(() -> !jvm.process().isAlive())
        .until(() -> jvm.lines("").stream().anyMatch(l -> pattern.matcher(l).find()));
    for (String line : jvm.lines("")) {
      Matcher m = pattern.matcher(line);
      if (m.find()) {
        return m;
      }
    }
    throw new AssertionError(jvm.output());
  }

  private static LocalTime now() {
    return LocalTime.now(LOG_ZONE);
  }

  /** Time from one wall-clock reading to a later one, across midnight too. */
  private static long millisBetween(LocalTime from, LocalTime to) {
    long ms = from.until(to, ChronoUnit.MILLIS);
    return ms < -12 * 3_600_000L ? ms + 24 * 3_600_000L : ms;
  }

  /**
   * The task: a tenth of a second's work (fifteen seconds on the slow host, if one is named), then
   * the item and the address of the host that ran it.
   */
  private static String whereItRan(int item, String slowHost) throws InterruptedException {
    Thread.sleep(Host.ADDRESS.equals(slowHost) ? 15_000 : 100);
    return item + "@" + Host.ADDRESS;
  }

  /**
   * The address of the host this JVM runs on: its namespace's one IPv4 address besides loopback.
   */
  private static final class Host {
    static final String ADDRESS = find();

    private static String find() {
      try {
        for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
          for (InetAddress ip : Collections.list(nic.getInetAddresses())) {
            if (ip instanceof Inet4Address && !ip.isLoopbackAddress()) {
              return ip.getHostAddress();
            }
          }
        }
        return "nowhere";
      } catch (SocketException e) {
        return "unknown: " + e;
      }
    }
  }
}
