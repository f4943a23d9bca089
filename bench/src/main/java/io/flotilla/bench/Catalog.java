package io.flotilla.bench;

import io.flotilla.SerializableFunction;
import io.flotilla.workloads.SlowHttpServer;
import io.flotilla.workloads.TextCorpus;
import io.flotilla.workloads.Workloads;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * The workloads of {@code flotilla bench}, in the order they run, with their sizes for a full and a
 * {@code --quick} run. The sizes, warm-ups and repetitions are all here, so that what a run
 * measured can be read in one place.
 */
final class Catalog {
  /** Concurrent fetches in {@code download}: the thread pool's threads, and Python's processes. */
  static final int DOWNLOAD_CONCURRENCY = 16;

  private Catalog() {}

  /**
   * @return every benchmark by its {@code --only} name, in running order, including those that run
   *     only when named ({@link Benchmark#byDefault()})
   */
  static Map<String, Benchmark> all() {
    Map<String, Benchmark> all = new LinkedHashMap<>();
    for (Benchmark b :
        List.of(
            new Benchmark("hash", Catalog::hash),
            new Benchmark("primes", Catalog::primes),
            new Benchmark("wordcount-files", Catalog::wordcountFiles),
            new Benchmark("wordcount-lines", Catalog::wordcountLines),
            new Benchmark("download", Catalog::download),
            RoundTrips.submit(),
            RoundTrips.latency(),
            new Benchmark("map1m", Catalog::map1m),
            new Benchmark("payload", Catalog::payload),
            FreshStarts.startup(),
            FreshStarts.rss(),
            LazyMap.benchmark(),
            MetricsOverhead.benchmark())) {
      all.put(b.name(), b);
    }
    return all;
  }

  /**
   * @return names {@code --only} also takes, each standing for several benchmarks
   */
  static Map<String, List<String>> aliases() {
    return Map.of("wordcount", List.of("wordcount-files", "wordcount-lines"));
  }

  /**
   * The seed's serial {@code hash_all(20)}: twenty calls of {@code hash_one(20)}, each PBKDF2 at
   * 10,000, 20,000, ... 190,000 iterations, so every item costs the same (eight calls of {@code
   * hash_one(16)} with {@code --quick}). The seed's parallel version maps {@code hash_one} over
   * {@code range(20)} instead, items whose cost grows with their index; no scheduler that starts
   * items in order can split those better than 1.85 to 1 on two workers, which the demo shows.
   */
  private static void hash(Session s) throws Exception {
    int items = s.size(20, 6);
    int n = s.size(20, 16);
    List<Integer> ns = Collections.nCopies(items, n);
    // PBKDF2 runs much slower until the JIT has seen a whole run in each JVM, as the demo found.
    new MapBenchmark<>("hash", Workloads::hashOne, ns)
        .warmUp(1, ns)
        .repetitions(s.size(3, 1))
        .python(
            "hash", "--workers", n(s), "--items", String.valueOf(items), "--n", String.valueOf(n))
        .run(s);
  }

  /**
   * The seed's primes: {@code isPrime} over 19,000..19,999, on warm pools with default settings.
   */
  private static void primes(Session s) throws Exception {
    List<Integer> numbers = range(19_000, 20_000);
    // Until the map path is compiled in the caller and in every worker, a map of a thousand trivial
    // items costs several times what it costs after: hundreds of untimed maps.
    new MapBenchmark<>("primes", Workloads::isPrime, numbers)
        .warmUp(s.size(200, 50), numbers)
        .repetitions(s.size(5, 3))
        .python("primes", "--workers", n(s), "--items", "1000")
        .run(s);
  }

  /** Word counts of generated text files of 25,000 lines (1.5 MB), one item per file. */
  private static void wordcountFiles(Session s) throws Exception {
    try (TextCorpus corpus = new TextCorpus(s.size(16, 8), 25_000)) {
      new MapBenchmark<>("wordcount-files", Workloads::countWords, corpus.files())
          .warmUp(s.size(2, 1), corpus.files())
          .repetitions(s.size(5, 3))
          .python(withFiles(List.of("wordcount-files", "--workers", n(s)), corpus.files()))
          .run(s);
    }
  }

  /**
   * Word counts of generated text, one item per line: many small items with small results. Fewer
   * lines than the files variant holds, because Python's default chunksize of 1 makes a line cost a
   * round trip.
   */
  private static void wordcountLines(Session s) throws Exception {
    try (TextCorpus corpus = new TextCorpus(s.size(4, 2), s.size(25_000, 5_000))) {
      List<String> lines = new ArrayList<>();
      for (String file : corpus.files()) {
        try {
          lines.addAll(Files.readAllLines(Path.of(file)));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
      new MapBenchmark<>("wordcount-lines", Workloads::countWordsOfText, lines)
          .warmUp(1, lines)
          .repetitions(s.size(3, 1))
          .python(withFiles(List.of("wordcount-lines", "--workers", n(s)), corpus.files()))
          .run(s);
    }
  }

  /**
   * Fetches from a loopback server that answers after 20 ms: work that waits. Threads: a ThreadPool
   * of 16; processes: N worker JVMs with enough threads each for 16 in all; Python: 16 processes.
   */
  private static void download(Session s) throws Exception {
    int fetches = s.size(1_000, 120);
    int threadsPerWorker = (DOWNLOAD_CONCURRENCY + s.workers() - 1) / s.workers();
    try (SlowHttpServer http = new SlowHttpServer(20, 10_000)) {
      List<String> urls = IntStream.range(0, fetches).mapToObj(i -> http.url("page/" + i)).toList();
      new MapBenchmark<>("download", Workloads::download, urls)
          .lanes(
              MapBenchmark.Lane.serial(),
              MapBenchmark.Lane.threads(DOWNLOAD_CONCURRENCY),
              MapBenchmark.Lane.processes(threadsPerWorker))
          .warmUp(1, urls.subList(0, 2 * DOWNLOAD_CONCURRENCY))
          .repetitions(1)
          .python(
              "download",
              "--workers",
              String.valueOf(DOWNLOAD_CONCURRENCY),
              "--items",
              String.valueOf(fetches),
              "--url",
              http.url(""))
          .run(s);
    } finally {
      s.pools().closeExtras();
    }
  }

  /**
   * A million trivial items through {@code map} with default options; Python at chunksize 10,000
   * (its best) and, in a full run, at its default of 1 (minutes).
   */
  private static void map1m(Session s) throws Exception {
    List<Integer> items = range(0, 1_000_000);
    SerializableFunction<Integer, Integer> identity = x -> x;
    MapBenchmark<Integer, Integer> map =
        new MapBenchmark<>("map1m", identity, items)
            .warmUp(1, s.quick() ? items.subList(0, 100_000) : items)
            .repetitions(s.size(3, 1))
            .python("map1m", "--workers", n(s), "--items", "1000000", "--chunksize", "10000");
    if (!s.quick()) {
      map.pythonOnce("map1m", "--workers", n(s), "--items", "1000000", "--chunksize", "1");
    }
    map.run(s);
  }

  /**
   * Results of 1 MiB each ({@code new byte[1 << 20]}) through {@code map}: 1 GiB in all (256 MiB
   * with {@code --quick}); {@code mb_per_s} is MiB of results received per second.
   */
  private static void payload(Session s) throws Exception {
    int blocks = s.size(1024, 256);
    List<Integer> ids = range(0, blocks);
    SerializableFunction<Integer, byte[]> mebibyte = i -> new byte[1 << 20];
    new MapBenchmark<>("payload", mebibyte, ids)
        .lanes(MapBenchmark.Lane.processes())
        .warmUp(1, ids.subList(0, 32))
        .repetitions(s.size(3, 1))
        .checksum(block -> block.length)
        .extras((row, seconds) -> row.put("mb_per_s", blocks / seconds))
        .python("payload", "--workers", n(s), "--items", String.valueOf(blocks))
        .run(s);
  }

  private static String n(Session s) {
    return String.valueOf(s.workers());
  }

  private static List<Integer> range(int from, int to) {
    return IntStream.range(from, to).boxed().toList();
  }

  private static String[] withFiles(List<String> args, List<String> files) {
    List<String> all = new ArrayList<>(args);
    all.add("--files");
    all.addAll(files);
    return all.toArray(String[]::new);
  }
}
