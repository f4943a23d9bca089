package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * {@link ThreadPool#builder()}: Python's {@code ThreadPoolExecutor(max_workers, thread_name_prefix,
 * initializer)}, as {@link InitializerTest} checks {@link ProcessPool.Builder#initializer} on
 * worker JVMs: once per pool thread before its first task, and a failure breaks the pool.
 */
class ThreadPoolBuilderTest extends PoolTestBase {
  /** What the initializer leaves for the tasks of its thread: its own thread's name. */
  private static final ThreadLocal<String> INITIALIZED = new ThreadLocal<>();

  private ThreadPool pool;

  @AfterEach
  void stopPool() throws InterruptedException {
    Pools.shutDown(pool);
  }

  @Test
  void initializerRunsOncePerThreadBeforeItsFirstTask() throws Exception {
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    pool =
        Pools.track(
            ThreadPool.builder()
                .threads(3)
                .threadNamePrefix("crawler")
                .initializer(
                    () -> {
                      String name = Thread.currentThread().getName();
                      runs.computeIfAbsent(name, k -> new AtomicInteger()).incrementAndGet();
                      INITIALIZED.set(name);
                    })
                .build());
    // Three tasks that wait for each other hold all three threads at once, so each thread gets one.
    CountDownLatch allThree = new CountDownLatch(3);
    List<CompletableFuture<String>> tasks = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      tasks.add(
          pool.submit(
              () -> {
                allThree.countDown();
                allThree.await();
                return Thread.currentThread().getName() + "=" + INITIALIZED.get();
              }));
    }
    for (int i = 0; i < 30; i++) {
      tasks.add(pool.submit(() -> Thread.currentThread().getName() + "=" + INITIALIZED.get()));
    }
    List<String> mapped = new ArrayList<>();
    pool.map(
            (Integer x) -> Thread.currentThread().getName() + "=" + INITIALIZED.get(),
            List.of(1, 2, 3, 4))
        .forEachRemaining(mapped::add);
    List<String> seen = new ArrayList<>(mapped);
    for (CompletableFuture<String> t : tasks) {
      seen.add(t.get(TestTime.LONG.toMillis(), TimeUnit.MILLISECONDS));
    }
    for (String s : seen) {
      String[] r = s.split("=", 2);
      assertThat(r[1]).as("what the initializer left for a task on %s", r[0]).isEqualTo(r[0]);
      assertThat(r[0]).startsWith("crawler-");
    }
    assertThat(runs).hasSize(3);
    assertThat(runs.values())
        .allSatisfy(n -> assertThat(n.get()).as("initializer runs per thread").isEqualTo(1));
  }

  @Test
  void failingInitializerBreaksThePool() throws Exception {
    Logger log = (Logger) LoggerFactory.getLogger(AbstractPool.class);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    log.addAppender(logged);
    try {
      CountDownLatch queued = new CountDownLatch(1);
      pool =
          Pools.track(
              ThreadPool.builder()
                  .threads(1)
                  .initializer(
                      () -> {
                        queued.await();
                        throw new IllegalStateException("initializer fails on purpose");
                      })
                  .build());
      // The first task starts the pool's only thread, whose initializer waits until the rest are
      // queued.
      List<CompletableFuture<Integer>> pending = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        int n = i;
        pending.add(pool.submit(() -> n));
      }
      queued.countDown();
      for (CompletableFuture<Integer> p : pending) {
        assertThatThrownBy(() -> p.get(TestTime.LONG.toMillis(), TimeUnit.MILLISECONDS))
            .isInstanceOf(ExecutionException.class)
            .cause()
            .isInstanceOf(BrokenPoolException.class)
            .hasMessageContaining("initializer fails on purpose")
            .hasRootCauseInstanceOf(IllegalStateException.class);
      }
      assertThatThrownBy(() -> pool.submit(() -> 2))
          .isInstanceOf(BrokenPoolException.class)
          .hasMessageContaining("initializer fails on purpose");
      assertThatThrownBy(() -> pool.map((Integer x) -> x, List.of(1)))
          .isInstanceOf(BrokenPoolException.class);
      pool.close();
      assertThat(pool.isTerminated()).isTrue();
      assertThat(logged.list)
          .filteredOn(e -> e.getLevel() == Level.ERROR)
          .singleElement()
          .satisfies(
              e -> assertThat(e.getFormattedMessage()).contains("initializer fails on purpose"));
    } finally {
      log.detachAppender(logged);
    }
  }

  @Test
  void aMapUnderWayWhenTheInitializerFailsFailsItsItems() throws Exception {
    CountDownLatch mapped = new CountDownLatch(1);
    pool =
        Pools.track(
            ThreadPool.builder()
                .threads(2)
                .initializer(
                    () -> {
                      mapped.await();
                      throw new java.io.IOException("no connection for this thread");
                    })
                .build());
    MapResults<Integer> results = pool.map((Integer x) -> x * 2, List.of(1, 2, 3, 4, 5, 6));
    mapped.countDown();
    assertThatThrownBy(results::next)
        .isInstanceOf(CompletionException.class)
        .cause()
        .isInstanceOf(BrokenPoolException.class)
        .hasMessageContaining("no connection for this thread");
    results.close();
  }

  @Test
  void builderRefusesBadValuesAtOnceNamingThem() {
    assertThatThrownBy(() -> ThreadPool.builder().threads(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("threads must be at least 1, was 0");
    assertThatThrownBy(() -> ThreadPool.builder().threadNamePrefix(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("threadNamePrefix must not be blank, was ' '");
    assertThatThrownBy(() -> ThreadPool.builder().threadNamePrefix(null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("threadNamePrefix must not be blank, was 'null'");
    assertThatThrownBy(() -> ThreadPool.builder().initializer(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("initializer");
  }

  @Test
  void defaultsArePythonsAndOfStillWorks() throws Exception {
    pool = Pools.track(ThreadPool.builder().build());
    assertThat(pool.workers())
        .isEqualTo(Math.min(32, Runtime.getRuntime().availableProcessors() + 4));
    assertThat(
            pool.submit(() -> Thread.currentThread().getName())
                .get(TestTime.LONG.toMillis(), TimeUnit.MILLISECONDS))
        .startsWith("flotilla-thread-");
    try (ThreadPool three = ThreadPool.of(3)) {
      assertThat(three.parallelism()).isEqualTo(3);
      assertThat(three.submit(() -> 7).get(TestTime.LONG.toMillis(), TimeUnit.MILLISECONDS))
          .isEqualTo(7);
    }
  }
}
