package io.flotilla.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.PoolExecutor;
import io.flotilla.ProcessPool;
import io.flotilla.SerializableFunction;
import io.flotilla.ThreadPool;
import io.flotilla.workloads.SlowHttpServer;
import io.flotilla.workloads.TextCorpus;
import io.flotilla.workloads.Workloads;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Every demo workload gives the same results on a ThreadPool and on a ProcessPool of real worker
 * JVMs as in a serial loop (smaller inputs than the demo's, same functions).
 */
@Timeout(120)
class WorkloadsOnPoolsTest {
  private static ProcessPool processes;
  private static ThreadPool threads;

  @BeforeAll
  static void startPools() {
    processes = ProcessPool.local(2);
    threads = ThreadPool.of(4);
  }

  @AfterAll
  static void stopPools() {
    threads.close();
    processes.close();
  }

  private static <T, R> void sameEverywhere(SerializableFunction<T, R> fn, List<T> items)
      throws Exception {
    List<R> serial = new ArrayList<>();
    for (T item : items) {
      serial.add(fn.apply(item));
    }
    for (PoolExecutor pool : List.of(threads, processes)) {
      List<R> pooled = new ArrayList<>();
      pool.map(fn, items).forEachRemaining(pooled::add);
      assertThat(pooled).as("results on %s", pool).isEqualTo(serial);
    }
  }

  @Test
  void hash() throws Exception {
    sameEverywhere(Workloads::hashOne, IntStream.range(0, 6).boxed().toList());
    assertThat(Workloads.hashOne(1)).isEmpty();
    assertThat(Workloads.hashOne(2)).hasSize(64);
  }

  @Test
  void primes() throws Exception {
    List<Integer> numbers = IntStream.range(19_000, 20_000).boxed().toList();
    sameEverywhere(Workloads::isPrime, numbers);
    // 19000..20000 holds 104 primes; the serial count guards the function itself.
    assertThat(numbers.stream().filter(Workloads::isPrime).count()).isEqualTo(104);
  }

  @Test
  void wordcount() throws Exception {
    try (TextCorpus corpus = new TextCorpus(4, 500)) {
      sameEverywhere(Workloads::countWords, corpus.files());
    }
    assertThat(Workloads.countWordsOfText("a b  A\nc")).containsEntry("a", 2).containsEntry("c", 1);
  }

  @Test
  void download() throws Exception {
    try (SlowHttpServer http = new SlowHttpServer(1, 1234)) {
      List<String> urls = IntStream.range(0, 20).mapToObj(i -> http.url("p" + i)).toList();
      sameEverywhere(Workloads::download, urls);
      assertThat(Workloads.download(urls.get(0))).isEqualTo(1234);
    }
  }
}
