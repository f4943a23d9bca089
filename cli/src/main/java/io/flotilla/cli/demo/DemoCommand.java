package io.flotilla.cli.demo;

import io.flotilla.MapResults;
import io.flotilla.PoolExecutor;
import io.flotilla.ProcessPool;
import io.flotilla.SerializableFunction;
import io.flotilla.ThreadPool;
import io.flotilla.workloads.SlowHttpServer;
import io.flotilla.workloads.TextCorpus;
import io.flotilla.workloads.Workloads;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code flotilla demo}: the seeds' workloads on a serial loop, a {@link ThreadPool} and a
 * {@link ProcessPool}, side by side, with a verdict for each.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Times the seed articles' workloads on a serial loop, a ThreadPool and a ProcessPool.",
      "The workloads are pbkdf2 hashing, primes, word counts and downloads. Each gets its times on this "
          + "machine, its speed-ups over the serial loop and a verdict drawn from what was measured."
    })
public final class DemoCommand implements Callable<Integer> {
  private static final List<String> ALL = List.of("hash", "primes", "wordcount", "download");

  @Option(names = "--json", description = "Print one JSON object per measurement instead of a table.")
  boolean json;

  @Option(names = "--workers", paramLabel = "N", description = "Worker JVMs of the ProcessPool (default: processors).")
  int workers = Runtime.getRuntime().availableProcessors();

  @Option(names = "--threads", paramLabel = "N", description = "Threads of the ThreadPool (default: min(32, processors + 4)).")
  int threads = Math.min(32, Runtime.getRuntime().availableProcessors() + 4);

  @Option(
      names = "--only",
      split = ",",
      paramLabel = "WORKLOAD",
      description = "Run only these workloads: ${COMPLETION-CANDIDATES}.",
      completionCandidates = WorkloadNames.class)
  List<String> only = ALL;

  @Option(
      names = "--connect",
      paramLabel = "HOST:PORT",
      description =
          "Run the process column on the workers of a running coordinator (flotilla coordinator) instead of "
              + "local worker JVMs; the cluster secret comes from FLOTILLA_SECRET, or from the file "
              + "FLOTILLA_SECRET_FILE names. Word counts then ship the texts rather than file names, and the "
              + "download workload is left out: its server is on this machine's loopback.")
  String connect;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--downloads", paramLabel = "N", description = "Fetches in the download workload (default: 200).")
  int downloads = 200;

  /** Names accepted by {@code --only}. */
  static final class WorkloadNames extends ArrayList<String> {
    private static final long serialVersionUID = 1L;

    WorkloadNames() {
      super(ALL);
    }
  }

  @Override
  public Integer call() throws Exception {
    for (String name : only) {
      if (!ALL.contains(name)) {
        throw new picocli.CommandLine.ParameterException(
            new picocli.CommandLine(this), "unknown workload '" + name + "'; choose from " + ALL);
      }
    }
    if (workers < 1 || threads < 1 || downloads < 1) {
      throw new picocli.CommandLine.ParameterException(
          new picocli.CommandLine(this),
          "--workers, --threads and --downloads must be at least 1, were " + workers + ", " + threads + ", " + downloads);
    }
    if (connect != null) {
      if (only.contains("download")) {
        if (spec.commandLine().getParseResult().hasMatchedOption("--only")) {
          throw new picocli.CommandLine.ParameterException(
              spec.commandLine(),
              "the download workload cannot run with --connect: its server listens on this machine's loopback");
        }
        only = only.stream().filter(w -> !w.equals("download")).toList();
      }
    }
    PrintStream out = System.out;
    List<Row> rows = new ArrayList<>();
    try (TextCorpus corpus = new TextCorpus(16, 25_000);
        SlowHttpServer http = new SlowHttpServer(20, 10_000);
        ThreadPool threadPool = ThreadPool.of(threads);
        PoolExecutor processPool = connect == null ? ProcessPool.local(workers) : ProcessPool.connect(connect)) {
      workers = processPool.workers();
      // The pools exist before the clock starts: the demo compares running work, not JVM start-up.
      threadPool.submit(() -> 1).get();
      processPool.submit(() -> 1).get();
      if (!json) {
        out.printf(
            Locale.ROOT,
            "Flotilla demo: %d processors, ThreadPool(%d threads), %s(%d worker JVMs), Java %s%n%n",
            Runtime.getRuntime().availableProcessors(),
            threads,
            connect == null ? "ProcessPool" : "cluster at " + connect + " ",
            workers,
            Runtime.version());
      }
      for (String name : only) {
        DemoWorkload<?, ?> workload = workload(name, corpus, http);
        Row row = measure(workload, threadPool, processPool);
        rows.add(row);
        if (json) {
          printJson(out, row);
        }
      }
    }
    if (!json) {
      printTable(out, rows);
    }
    return rows.stream().allMatch(r -> r.consistent) ? 0 : 1;
  }

  private DemoWorkload<?, ?> workload(String name, TextCorpus corpus, SlowHttpServer http)
      throws java.io.IOException {
    return switch (name) {
      case "hash" -> {
        // PBKDF2 runs ~40% slower until the JIT has seen a whole run, in every JVM: warm up on the
        // real items, or the serial loop (first in line) pays for everyone.
        List<Integer> ns = IntStream.range(0, 20).boxed().toList();
        yield new DemoWorkload<>("hash", ns, Workloads::hashOne, 1, 1, ns);
      }
      case "primes" -> {
        // A few hundred warm-up maps: until the JIT has compiled the map path in the caller and in every
        // worker, a map of a thousand trivial items costs several times what it costs after.
        List<Integer> numbers = IntStream.range(19_000, 20_000).boxed().toList();
        yield new DemoWorkload<>("primes", numbers, Workloads::isPrime, 21, 300, numbers);
      }
      case "wordcount" -> {
        if (connect == null) {
          yield new DemoWorkload<>("wordcount", corpus.files(), Workloads::countWords, 5, 2, corpus.files());
        }
        // Workers on other machines cannot open this machine's files: they get the texts.
        List<String> texts = new ArrayList<>();
        for (String file : corpus.files()) {
          texts.add(java.nio.file.Files.readString(java.nio.file.Path.of(file)));
        }
        yield new DemoWorkload<>("wordcount", texts, Workloads::countWordsOfText, 5, 2, texts);
      }
      case "download" -> {
        List<String> urls = IntStream.range(0, downloads).mapToObj(i -> http.url("page/" + i)).toList();
        yield new DemoWorkload<>("download", urls, Workloads::download, 1, 1, urls.subList(0, 8));
      }
      default -> throw new IllegalArgumentException(name);
    };
  }

  /** One workload's three measurements. */
  private record Row(
      String workload, int items, double serial, double thread, double process, boolean consistent) {}

  private Row measure(DemoWorkload<?, ?> w, PoolExecutor threadPool, PoolExecutor processPool) throws Exception {
    Timed serial = time(w, null, "serial");
    Timed thread = time(w, threadPool, "threads");
    Timed process = time(w, processPool, "processes");
    boolean consistent = serial.results.equals(thread.results) && serial.results.equals(process.results);
    if (!consistent) {
      System.err.println("flotilla demo: " + w.name() + " gave different results on different executors!");
    }
    return new Row(w.name(), w.items().size(), serial.seconds, thread.seconds, process.seconds, consistent);
  }

  private record Timed(double seconds, List<?> results) {}

  private <T, R> Timed time(DemoWorkload<T, R> w, PoolExecutor pool, String label) throws Exception {
    for (int run = 0; run < w.warmUpRuns(); run++) {
      runOnce(w.fn(), w.warmUpItems(), pool, null);
    }
    double[] seconds = new double[w.repetitions()];
    List<R> results = null;
    try (ProgressBar bar = progressBar(w.name() + " / " + label, (long) w.repetitions() * w.items().size())) {
      for (int run = 0; run < w.repetitions(); run++) {
        long start = System.nanoTime();
        results = runOnce(w.fn(), w.items(), pool, bar);
        seconds[run] = (System.nanoTime() - start) / 1e9;
      }
    }
    Arrays.sort(seconds);
    return new Timed(seconds[seconds.length / 2], results);
  }

  private static <T, R> List<R> runOnce(
      SerializableFunction<T, R> fn, List<T> items, PoolExecutor pool, ProgressBar bar) throws Exception {
    List<R> results = new ArrayList<>(items.size());
    if (pool == null) {
      for (T item : items) {
        results.add(fn.apply(item));
        if (bar != null) {
          bar.step();
        }
      }
      return results;
    }
    long base = bar == null ? 0 : bar.getCurrent();
    try (MapResults<R> mapped = pool.map(fn, items)) {
      while (mapped.hasNext()) {
        results.add(mapped.next());
        if (bar != null) {
          bar.stepTo(base + mapped.completed());
        }
      }
    }
    return results;
  }

  private ProgressBar progressBar(String task, long max) {
    if (json || System.console() == null) {
      return null;
    }
    return new ProgressBarBuilder()
        .setTaskName(task)
        .setInitialMax(max)
        .setStyle(ProgressBarStyle.ASCII)
        .setConsumer(new ConsoleProgressBarConsumer(System.err))
        .setUpdateIntervalMillis(100)
        .clearDisplayOnFinish()
        .build();
  }

  private void printJson(PrintStream out, Row row) {
    Map<String, Double> byExecutor = new LinkedHashMap<>();
    byExecutor.put("serial", row.serial);
    byExecutor.put("thread", row.thread);
    byExecutor.put("process", row.process);
    for (Map.Entry<String, Double> e : byExecutor.entrySet()) {
      int n = switch (e.getKey()) {
        case "thread" -> threads;
        case "process" -> workers;
        default -> 1;
      };
      String executor = e.getKey().equals("process") && connect != null ? "cluster" : e.getKey();
      out.printf(
          Locale.ROOT,
          "{\"workload\":\"%s\",\"executor\":\"%s\",\"workers\":%d,\"items\":%d,\"seconds\":%.6f}%n",
          row.workload,
          executor,
          n,
          row.items,
          e.getValue());
    }
    out.flush();
  }

  private void printTable(PrintStream out, List<Row> rows) {
    String threadHead = "threads (" + threads + ")";
    String processHead = (connect == null ? "processes (" : "cluster (") + workers + ")";
    out.printf(Locale.ROOT, "%-10s %6s  %10s  %-20s  %-20s  %s%n", "workload", "items", "serial", threadHead, processHead, "verdict");
    for (Row r : rows) {
      out.printf(
          Locale.ROOT,
          "%-10s %6d  %10s  %-20s  %-20s  %s%n",
          r.workload,
          r.items,
          duration(r.serial),
          duration(r.thread) + String.format(Locale.ROOT, " %6.2fx", r.serial / r.thread),
          duration(r.process) + String.format(Locale.ROOT, " %6.2fx", r.serial / r.process),
          verdict(r));
    }
    out.println();
    out.println("Times are medians of repeated runs on warm pools; NNx is the speed-up over the serial loop.");
  }

  static String duration(double seconds) {
    return seconds >= 1
        ? String.format(Locale.ROOT, "%.2f s", seconds)
        : String.format(Locale.ROOT, "%.2f ms", seconds * 1000);
  }

  /** Which executor the numbers recommend, in one line. */
  String verdict(Row r) {
    double threadSpeedup = r.serial / r.thread;
    double processSpeedup = r.serial / r.process;
    double best = Math.max(threadSpeedup, processSpeedup);
    if (!r.consistent) {
      return "results differ between executors: a bug, please report it";
    }
    if (best < 1.1) {
      return "serial: too little work per item to pay for parallelism";
    }
    if (processSpeedup > threadSpeedup * 1.15) {
      return String.format(Locale.ROOT, "processes: CPU-bound, %.1fx on %d worker JVMs", processSpeedup, workers);
    }
    if (threadSpeedup > processSpeedup * 1.15) {
      // More speed-up than there are cores means the threads were waiting, not computing.
      return threadSpeedup > Runtime.getRuntime().availableProcessors() * 1.2
          ? String.format(
              Locale.ROOT, "threads: mostly waiting (I/O), %.1fx with %d threads", threadSpeedup, threads)
          : String.format(
              Locale.ROOT,
              "threads: %.1fx; worker JVMs pay to copy each result between processes",
              threadSpeedup);
    }
    return String.format(
        Locale.ROOT,
        "either: %.1fx both ways (Java threads have no GIL); processes add isolation",
        best);
  }

  @Override
  public String toString() {
    return "demo " + Objects.toString(only);
  }
}
