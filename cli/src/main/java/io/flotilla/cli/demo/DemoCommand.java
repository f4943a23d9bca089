package io.flotilla.cli.demo;

import io.flotilla.BrokenPoolException;
import io.flotilla.MapOptions;
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
import java.util.function.LongSupplier;
import java.util.stream.IntStream;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code flotilla demo}: the seeds' workloads on a serial loop, a {@link ThreadPool} and a {@link
 * ProcessPool}, side by side, with a verdict for each.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Times the seed articles' workloads on a serial loop, a ThreadPool and a ProcessPool.",
      "The workloads are pbkdf2 hashing, primes, word counts and downloads. Each gets its times on this "
          + "machine, its speed-ups over the serial loop and a verdict drawn from what was measured.",
      "Exit codes: 0 every executor computed the same results, 1 results differed between executors, "
          + "2 bad command line, 5 the coordinator refused this client (no cluster secret, or a wrong one), "
          + "7 no coordinator answered, 8 the demo failed otherwise (its message on standard error)."
    })
public final class DemoCommand implements Callable<Integer> {
  private static final List<String> ALL = List.of("hash", "primes", "wordcount", "download");

  @Option(
      names = "--json",
      description = "Print one JSON object per measurement instead of a table.")
  boolean json;

  @Option(
      names = "--workers",
      paramLabel = "N",
      description = "Worker JVMs of the ProcessPool (default: processors).")
  int workers = Runtime.getRuntime().availableProcessors();

  @Option(
      names = "--threads",
      paramLabel = "N",
      description = "Threads of the ThreadPool (default: min(32, processors + 4)).")
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

  @Option(
      names = "--dashboard",
      arity = "0..1",
      fallbackValue = "127.0.0.1:0",
      paramLabel = "HOST:PORT",
      description =
          "Serve a live dashboard of the process pool (workers, progress, task stream) from this "
              + "JVM, on loopback (default 127.0.0.1 and a free port), and print its address. On a "
              + "terminal the demo then waits for Enter before it ends, so the page can be read.")
  String dashboard;

  @Option(
      names = "--downloads",
      paramLabel = "N",
      description = "Fetches in the download workload (default: 200).")
  int downloads = 200;

  /** Names accepted by {@code --only}. */
  static final class WorkloadNames extends ArrayList<String> {
    private static final long serialVersionUID = 1L;

    WorkloadNames() {
      super(ALL);
    }
  }

  /** Every executor computed the same results. */
  static final int OK = 0;

  /** Executors computed different results: a bug. */
  static final int RESULTS_DIFFER = 1;

  /** The command line is wrong (picocli's code for it, and the job commands'). */
  static final int USAGE = 2;

  /**
   * The coordinator refused this client: no cluster secret, or a wrong one (the job commands'
   * code).
   */
  static final int REFUSED = 5;

  /** No coordinator answered at the address, or not in time (the job commands' code). */
  static final int UNREACHABLE = 7;

  /** Anything else stopped the demo: a pool that broke, a workload that failed. */
  static final int FAILED = 8;

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
          "--workers, --threads and --downloads must be at least 1, were "
              + workers
              + ", "
              + threads
              + ", "
              + downloads);
    }
    if (connect != null && dashboard != null) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(),
          "--dashboard serves a local pool's page; with --connect, open the coordinator's own"
              + " dashboard (its ready line prints the address)");
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
    // First, so that a coordinator that refuses this client is reported before anything else is set
    // up.
    PoolExecutor processPool;
    try {
      if (connect != null) {
        processPool = ProcessPool.connect(connect);
      } else if (dashboard != null) {
        ProcessPool local = ProcessPool.builder().workers(workers).dashboard(dashboard).build();
        System.err.println("dashboard: " + local.dashboardUrl().orElseThrow());
        processPool = local;
      } else {
        processPool = ProcessPool.local(workers);
      }
    } catch (BrokenPoolException e) {
      return failed(e);
    } catch (IllegalArgumentException e) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    PrintStream out = System.out;
    List<Row> rows = new ArrayList<>();
    try (processPool;
        TextCorpus corpus = new TextCorpus(16, 25_000);
        SlowHttpServer http = new SlowHttpServer(20, 10_000);
        ThreadPool threadPool = ThreadPool.of(threads)) {
      workers = processPool.workers();
      // The pools are ready before the clock starts: the demo compares running work, not JVM
      // start-up.
      DemoPools pools = DemoPools.ready(threadPool, processPool);
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
        Row row = measure(workload, pools);
        rows.add(row);
        if (json) {
          printJson(out, row);
        }
      }
      if (!json) {
        printTable(out, rows);
      }
      if (dashboard != null && onTerminal()) {
        System.err.println(
            "the dashboard stays open at "
                + ((ProcessPool) processPool).dashboardUrl().orElseThrow()
                + "; press Enter to end");
        var unused = System.in.read();
      }
    } catch (Exception e) {
      return failed(e);
    }
    return rows.stream().allMatch(r -> r.figures.consistent()) ? OK : RESULTS_DIFFER;
  }

  /** Reports what stopped the demo on stderr, in one line, and returns its exit code. */
  private int failed(Exception e) {
    Throwable shown =
        e instanceof java.util.concurrent.CompletionException && e.getCause() != null
            ? e.getCause()
            : e;
    System.err.println("flotilla demo: " + shown.getMessage());
    return exitCode(e);
  }

  /**
   * @param failure what stopped the demo
   * @return its exit code: the coordinator's answer, when one is among the causes, decides
   */
  static int exitCode(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof io.grpc.StatusRuntimeException s) {
        return switch (s.getStatus().getCode()) {
          case UNAUTHENTICATED, PERMISSION_DENIED -> REFUSED;
          case UNAVAILABLE, DEADLINE_EXCEEDED -> UNREACHABLE;
          default -> FAILED;
        };
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return FAILED;
  }

  private DemoWorkload<?, ?> workload(String name, TextCorpus corpus, SlowHttpServer http)
      throws java.io.IOException {
    return switch (name) {
      case "hash" -> {
        // PBKDF2 runs ~40% slower until the JIT has seen a whole run, in every JVM: warm up on the
        // real items, or the serial loop (first in line) pays for everyone. Three timed runs: one
        // run
        // of a few seconds varies by a tenth on a shared machine.
        //
        // One item at a time, as the seed's Python map does (chunksize 1). The items' costs grow
        // with n;
        // the automatic chunking splits an input of known length into one chunk per worker and
        // leaves
        // the balance to work stealing, which here leaves a worker idle at the end: on two workers,
        // items of these costs (as sleeps, so that only the scheduling counted) ran 1.47x to 1.76x
        // faster than one after the other, and 1.82x to 1.87x one at a time, the most being 1.85x
        // for any split that starts them in order.
        List<Integer> ns = IntStream.range(0, 20).boxed().toList();
        yield new DemoWorkload<>(
            "hash", ns, Workloads::hashOne, 3, 1, ns, MapOptions.defaults().chunkSize(1));
      }
      case "primes" -> {
        // A few hundred warm-up maps: until the JIT has compiled the map path in the caller and in
        // every
        // worker, a map of a thousand trivial items costs several times what it costs after.
        List<Integer> numbers = IntStream.range(19_000, 20_000).boxed().toList();
        yield new DemoWorkload<>("primes", numbers, Workloads::isPrime, 21, 300, numbers);
      }
      case "wordcount" -> {
        if (connect == null) {
          yield new DemoWorkload<>(
              "wordcount", corpus.files(), Workloads::countWords, 5, 2, corpus.files());
        }
        // Workers on other machines cannot open this machine's files: they get the texts.
        List<String> texts = new ArrayList<>();
        for (String file : corpus.files()) {
          texts.add(java.nio.file.Files.readString(java.nio.file.Path.of(file)));
        }
        yield new DemoWorkload<>("wordcount", texts, Workloads::countWordsOfText, 5, 2, texts);
      }
      case "download" -> {
        List<String> urls =
            IntStream.range(0, downloads).mapToObj(i -> http.url("page/" + i)).toList();
        yield new DemoWorkload<>("download", urls, Workloads::download, 1, 1, urls.subList(0, 8));
      }
      default -> throw new IllegalArgumentException(name);
    };
  }

  /** One workload's measurements. */
  private record Row(String workload, Verdict.Figures figures) {}

  private Row measure(DemoWorkload<?, ?> w, DemoPools pools) throws Exception {
    Timed serial = time(w, null, "serial", DemoPools::serialCpuNanos);
    Timed thread = time(w, pools.threads(), "threads", DemoPools::jvmCpuNanos);
    Timed process = time(w, pools.processes(), "processes", pools::workerCpuNanos);
    boolean consistent =
        serial.results.equals(thread.results) && serial.results.equals(process.results);
    if (!consistent) {
      System.err.println(
          "flotilla demo: " + w.name() + " gave different results on different executors!");
    }
    DemoPools.Copying copying = pools.copying(w.items(), serial.results);
    Verdict.Figures figures =
        new Verdict.Figures(
            w.items().size(),
            serial.seconds,
            thread.seconds,
            process.seconds,
            serial.itemSeconds,
            Runtime.getRuntime().availableProcessors(),
            threads,
            pools.processes().parallelism(),
            serial.cores,
            thread.cores,
            process.cores,
            pools.threadRoundTrip(),
            pools.processRoundTrip(),
            copying.bytesPerItem(),
            copying.secondsPerItem(),
            consistent);
    return new Row(w.name(), figures);
  }

  /**
   * @param seconds the median run's wall-clock time
   * @param results the last run's results
   * @param itemSeconds each item's time in the median run, for the serial loop only
   * @param cores CPU time over wall-clock time, summed over the timed runs; NaN when not measured
   */
  @SuppressWarnings("ArrayRecordComponent") // read-only once timed, and never compared
  private record Timed(double seconds, List<?> results, double[] itemSeconds, double cores) {}

  private <T, R> Timed time(
      DemoWorkload<T, R> w, PoolExecutor pool, String label, LongSupplier cpuNanos)
      throws Exception {
    for (int run = 0; run < w.warmUpRuns(); run++) {
      runOnce(w.fn(), w.warmUpItems(), w.options(), pool, null, null);
    }
    double[] seconds = new double[w.repetitions()];
    double[][] itemSeconds = new double[w.repetitions()][];
    long cpu = 0;
    long wall = 0;
    List<R> results = null;
    try (ProgressBar bar =
        progressBar(w.name() + " / " + label, (long) w.repetitions() * w.items().size())) {
      for (int run = 0; run < w.repetitions(); run++) {
        itemSeconds[run] = pool == null ? new double[w.items().size()] : null;
        long cpuStart = cpuNanos.getAsLong();
        long start = System.nanoTime();
        results = runOnce(w.fn(), w.items(), w.options(), pool, bar, itemSeconds[run]);
        long elapsed = System.nanoTime() - start;
        long cpuEnd = cpuNanos.getAsLong();
        seconds[run] = elapsed / 1e9;
        wall += elapsed;
        // A worker replaced during the run takes its CPU time with it: then the figure is unknown.
        cpu = cpu < 0 || cpuStart < 0 || cpuEnd < cpuStart ? -1 : cpu + (cpuEnd - cpuStart);
      }
    }
    Integer[] order = IntStream.range(0, seconds.length).boxed().toArray(Integer[]::new);
    Arrays.sort(order, (a, b) -> Double.compare(seconds[a], seconds[b]));
    int median = order[order.length / 2];
    return new Timed(
        seconds[median], results, itemSeconds[median], cpu < 0 ? Double.NaN : (double) cpu / wall);
  }

  private static <T, R> List<R> runOnce(
      SerializableFunction<T, R> fn,
      List<T> items,
      MapOptions options,
      PoolExecutor pool,
      ProgressBar bar,
      double[] itemSeconds)
      throws Exception {
    List<R> results = new ArrayList<>(items.size());
    if (pool == null) {
      long previous = System.nanoTime();
      for (T item : items) {
        results.add(fn.apply(item));
        if (itemSeconds != null) {
          long now = System.nanoTime();
          itemSeconds[results.size() - 1] = (now - previous) / 1e9;
          previous = now;
        }
        if (bar != null) {
          bar.step();
        }
      }
      return results;
    }
    long base = bar == null ? 0 : bar.getCurrent();
    try (MapResults<R> mapped = pool.map(fn, items, options)) {
      while (mapped.hasNext()) {
        results.add(mapped.next());
        if (bar != null) {
          bar.stepTo(base + mapped.completed());
        }
      }
    }
    return results;
  }

  // JDK 17 is the floor: there, a null console is how a JVM says it has no terminal.
  @SuppressWarnings("SystemConsoleNull")
  private static boolean onTerminal() {
    return System.console() != null;
  }

  // JDK 17 is the floor: there, a null console is how a JVM says it has no terminal.
  @SuppressWarnings("SystemConsoleNull")
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
    Verdict.Figures f = row.figures;
    Map<String, Double> byExecutor = new LinkedHashMap<>();
    byExecutor.put("serial", f.serialSeconds());
    byExecutor.put("thread", f.threadSeconds());
    byExecutor.put("process", f.processSeconds());
    for (Map.Entry<String, Double> e : byExecutor.entrySet()) {
      int n =
          switch (e.getKey()) {
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
          f.items(),
          e.getValue());
    }
    out.flush();
  }

  private void printTable(PrintStream out, List<Row> rows) {
    String threadHead = "threads (" + threads + ")";
    String processHead = (connect == null ? "processes (" : "cluster (") + workers + ")";
    out.printf(
        Locale.ROOT,
        "%-10s %6s  %10s  %-20s  %-20s  %s%n",
        "workload",
        "items",
        "serial",
        threadHead,
        processHead,
        "verdict");
    for (Row r : rows) {
      Verdict.Figures f = r.figures;
      out.printf(
          Locale.ROOT,
          "%-10s %6d  %10s  %-20s  %-20s  %s%n",
          r.workload,
          f.items(),
          duration(f.serialSeconds()),
          duration(f.threadSeconds())
              + String.format(Locale.ROOT, " %6.2fx", f.serialSeconds() / f.threadSeconds()),
          duration(f.processSeconds())
              + String.format(Locale.ROOT, " %6.2fx", f.serialSeconds() / f.processSeconds()),
          Verdict.of(f));
    }
    out.println();
    out.println(
        "Times are medians of repeated runs on warm pools; NNx is the speed-up over the serial loop.");
  }

  static String duration(double seconds) {
    return seconds >= 1
        ? String.format(Locale.ROOT, "%.2f s", seconds)
        : String.format(Locale.ROOT, "%.2f ms", seconds * 1000);
  }

  @Override
  public String toString() {
    return "demo " + Objects.toString(only);
  }
}
