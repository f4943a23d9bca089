package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;

/**
 * The dashboard page in a real headless Chromium, on a real coordinator with real joined workers:
 * it lists the workers, follows a map to 100%, draws the map's chunks in the task stream, and shows
 * a worker killed with {@code kill -9} as lost.
 *
 * <p>The page's hooks it reads: {@code #workers tbody tr[data-worker-id]} with {@code data-state},
 * {@code #jobs tbody tr[data-job-id] .progress} with {@code data-percent}, {@code #task-stream}
 * with {@code data-spans}, {@code #status} with {@code data-state}. Screenshots land in {@code
 * target/screenshots/}.
 */
@FlotillaTest
class DashboardBrowserTest {
  @TempDir Path dir;

  /** A slow item: the map lasts seconds, long enough to be seen running. */
  private static int slow(int x) throws InterruptedException {
    TimeUnit.MILLISECONDS.sleep(2);
    return x;
  }

  @Test
  void showsTheWorkersAMapItsTasksAndAWorkerKilled() throws Exception {
    try (HeadlessChromium chromium = HeadlessChromium.start();
        RemoteWorkers cluster = new RemoteWorkers(dir)) {
      cluster.addWorker();
      cluster.addWorker();
      ClusterPool pool = cluster.connect();
      try {
        await("two workers joined").atMost(TestTime.LONG).until(() -> pool.workers() == 2);
        WebDriver page = chromium.driver();
        page.get(url(cluster.server().metricsAddress()));
        Page on = new Page(chromium);

        on.until("the page connected", TestTime.LONG, () -> "connected".equals(status(page)));
        on.until("two worker rows", TestTime.LONG, () -> states(page).size() == 2);
        assertThat(states(page).values()).containsOnly("ready");

        List<Integer> items = IntStream.range(0, 2_000).boxed().toList();
        CompletableFuture<Long> sum =
            CompletableFuture.supplyAsync(
                () -> {
                  long s = 0;
                  for (int r : pool.map(DashboardBrowserTest::slow, items)) {
                    s += r;
                  }
                  return s;
                });
        on.until("a job row", TestTime.LONG, () -> !jobRows(page).isEmpty());
        on.until("the task stream drew bars", TestTime.LONG, () -> spans(page) > 0);
        assertThat(sum.get(TestTime.LONG.toMillis(), TimeUnit.MILLISECONDS))
            .isEqualTo(2_000L * 1_999 / 2);
        on.until(
            "the job at 100%",
            TestTime.LONG,
            () ->
                jobRows(page).stream()
                    .map(r -> r.findElement(By.cssSelector(".progress")))
                    .anyMatch(p -> "100".equals(p.getDomAttribute("data-percent"))));
        assertThat(spans(page)).isPositive();
        chromium.screenshot("dashboard");

        // kill -9 of one worker host: its row stays, greyed, as lost.
        Map<String, String> before = states(page);
        Process victim = cluster.hosts().get(0);
        ProcessHandle.of(victim.pid()).ifPresent(ProcessHandle::destroyForcibly);
        assertThat(victim.waitFor(TestTime.LONG.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        on.until(
            "a worker row shown lost",
            TestTime.scaled(Duration.ofSeconds(20)),
            () ->
                states(page).entrySet().stream()
                    .anyMatch(e -> before.containsKey(e.getKey()) && "lost".equals(e.getValue())));
        assertThat(states(page).values()).as("the other worker").contains("ready");
        chromium.screenshot("dashboard-worker-lost");
      } finally {
        Pools.shutDown(pool);
      }
    }
  }

  private static String url(InetSocketAddress at) {
    return "http://" + at.getAddress().getHostAddress() + ":" + at.getPort() + "/";
  }

  /**
   * @return each worker row's id and {@code data-state}
   */
  private static Map<String, String> states(WebDriver page) {
    return page.findElements(By.cssSelector("#workers tbody tr[data-worker-id]")).stream()
        .collect(
            Collectors.toMap(
                r -> r.getDomAttribute("data-worker-id"),
                r -> r.getDomAttribute("data-state"),
                (a, b) -> a + "," + b));
  }

  private static List<WebElement> jobRows(WebDriver page) {
    return page.findElements(By.cssSelector("#jobs tbody tr[data-job-id]"));
  }

  private static int spans(WebDriver page) {
    String drawn = page.findElement(By.id("task-stream")).getDomAttribute("data-spans");
    return drawn == null ? 0 : Integer.parseInt(drawn);
  }

  /**
   * Waits on the page; a wait in vain fails with what the page logged to its console and its status
   * line, after a screenshot ({@code dashboard-failed.png}).
   */
  private record Page(HeadlessChromium chromium) {
    void until(String what, Duration atMost, Callable<Boolean> condition) {
      try {
        await(what)
            .atMost(atMost)
            .pollInterval(Duration.ofMillis(200))
            .ignoreExceptions()
            .until(condition);
      } catch (ConditionTimeoutException e) {
        chromium.screenshot("dashboard-failed");
        String status;
        try {
          status = chromium.driver().findElement(By.id("status")).getText();
        } catch (RuntimeException notThere) {
          status = "(no #status: " + notThere.getMessage().lines().findFirst().orElse("") + ")";
        }
        throw new AssertionError(
            "waited in vain for "
                + what
                + "; the page's status line: "
                + status
                + "\nits console:\n"
                + chromium.console(),
            e);
      }
    }
  }

  private static String status(WebDriver page) {
    return page.findElement(By.id("status")).getDomAttribute("data-state");
  }
}
