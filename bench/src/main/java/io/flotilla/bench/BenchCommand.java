package io.flotilla.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code flotilla bench}: the end-to-end benchmark. Runs each workload on a serial loop, a {@code
 * ThreadPool}, a {@code ProcessPool} and, when a Python 3 interpreter is found, Python's {@code
 * concurrent.futures.ProcessPoolExecutor}, all in one run, and prints a table with ratios or, with
 * {@code --json}, one JSON object per line:
 *
 * <pre>
 * {"workload":..., "executor":"serial|thread|process|python-process", "workers":N, "items":N,
 *  "seconds":S, "items_per_s":X, "p50_us":..., "p99_us":..., "rss_mb":...}
 * </pre>
 *
 * with the fields that do not apply left out, and a few workloads' own fields after them ({@code
 * chunksize} on Python map rows, {@code mb_per_s} on {@code payload}, {@code heap_mb_10}, {@code
 * heap_mb_100}, {@code flat} and {@code ahead_at_10} on {@code lazy}, {@code threads_per_worker} on
 * {@code download}'s process row). Sizes in MB are MiB.
 *
 * <p>{@code metrics} (run only when named: {@code --only metrics}) measures what a pool's dashboard
 * costs: {@code metrics-submit} and {@code metrics-map1m} on a pool without one ({@code process}),
 * with one nobody reads ({@code process+metrics}) and with one read as an open page and Prometheus
 * would ({@code process+metrics+watched}), the pools timed in turn; {@code vs_off} is a row's rate
 * over the pool without a dashboard, and the watched rows say what the reader received ({@code
 * events_read}, {@code scrapes}, {@code snapshot_bytes}, {@code snapshot_max_bytes}). See {@link
 * MetricsOverhead}.
 *
 * <p><b>What is measured.</b> Wall-clock time of whole runs on this machine, end to end:
 * submitting, encoding, the workers' work, decoding and consuming every result. Pools are created
 * and every worker has answered before any clock starts (except {@code startup}, which measures
 * exactly that, in fresh caller processes). Each executor first runs the workload untimed
 * (warm-ups, so that the JIT has compiled it in every JVM), then a few timed repetitions, and
 * reports the median; long runs are timed once. Python runs in a fresh interpreter per workload,
 * with its worker processes started before the clock and Python's default settings unless a row
 * says otherwise ({@code chunksize}). The sizes, warm-ups and repetitions of each workload are in
 * {@link Catalog}; {@code --quick} shrinks them so that a run takes about a minute, at the price of
 * noisier numbers.
 *
 * <p>Progress goes to stderr, results to stdout. The exit status is 1 if a workload failed or
 * executors computed different results, 0 otherwise.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "Benchmarks a serial loop, a ThreadPool, a ProcessPool and Python's ProcessPoolExecutor.",
      "Every executor runs the same workloads (Python's when python3, or --python, is found); the results "
          + "are a table with ratios, or JSON lines with --json.",
      "Exit codes: 0 done, 1 a workload failed or executors computed different results, 2 bad command line."
    })
public final class BenchCommand implements Callable<Integer> {
  @Option(
      names = "--json",
      description = "Print one JSON object per measurement instead of a table.")
  boolean json;

  @Option(
      names = "--quick",
      description = "Smaller sizes and fewer repetitions: a whole run in about a minute.")
  boolean quick;

  @Option(
      names = "--only",
      split = ",",
      paramLabel = "WORKLOAD",
      description =
          "Run only these workloads: ${COMPLETION-CANDIDATES}. 'metrics' (the dashboard's cost to"
              + " a pool's throughput, over a minute) runs only when named here.",
      completionCandidates = Names.class)
  List<String> only = new ArrayList<>();

  @Option(
      names = "--workers",
      paramLabel = "N",
      description =
          "Worker JVMs, threads and Python processes of the CPU-bound workloads (default: processors).")
  int workers = Runtime.getRuntime().availableProcessors();

  @Option(
      names = "--python",
      paramLabel = "PYTHON",
      description =
          "The Python 3 to compare with, a name on the PATH or a path (default: python3); 'none' to skip.")
  String python = "python3";

  /** Names accepted by {@code --only}. */
  static final class Names extends ArrayList<String> {
    private static final long serialVersionUID = 1L;

    Names() {
      super(Catalog.all().keySet());
      addAll(Catalog.aliases().keySet());
    }
  }

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    if (workers < 1) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--workers must be at least 1, was " + workers);
    }
    Map<String, Benchmark> all = Catalog.all();
    List<Benchmark> chosen = choose(all);
    PrintStream out = System.out;
    List<Row> rows = new ArrayList<>();
    boolean failed = false;
    PythonSide py = python.equals("none") ? null : PythonSide.find(python).orElse(null);
    try (Pools pools = new Pools(workers)) {
      String header = header(py);
      if (json) {
        System.err.println(header);
      } else {
        out.println(header);
        out.println();
      }
      Session session =
          new Session(
              quick,
              workers,
              pools,
              py,
              row -> {
                rows.add(row);
                if (json) {
                  out.println(row.toJson());
                  out.flush();
                }
              });
      long start = System.nanoTime();
      for (Benchmark b : chosen) {
        long t0 = System.nanoTime();
        try {
          b.body().run(session);
          session.progress("%s done in %.1f s", b.name(), (System.nanoTime() - t0) / 1e9);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          session.progress("interrupted");
          failed = true;
          break;
        } catch (Exception e) {
          failed = true;
          session.progress("%s failed: %s", b.name(), e);
          e.printStackTrace();
        }
      }
      session.progress("all done in %.1f s", (System.nanoTime() - start) / 1e9);
      failed |= session.anyInconsistent();
    } finally {
      if (py != null) {
        py.close();
      }
    }
    if (!json) {
      Report.print(out, rows);
    }
    return failed ? 1 : 0;
  }

  private List<Benchmark> choose(Map<String, Benchmark> all) {
    if (only.isEmpty()) {
      return all.values().stream().filter(Benchmark::byDefault).toList();
    }
    Set<String> names = new LinkedHashSet<>();
    for (String name : only) {
      if (all.containsKey(name)) {
        names.add(name);
      } else if (Catalog.aliases().containsKey(name)) {
        names.addAll(Catalog.aliases().get(name));
      } else {
        throw new CommandLine.ParameterException(
            spec.commandLine(), "unknown workload '" + name + "'; choose from " + new Names());
      }
    }
    // Catalog order, whatever the order given: the same workloads always run in the same order.
    return all.values().stream().filter(b -> names.contains(b.name())).toList();
  }

  private String header(PythonSide py) {
    return String.format(
        Locale.ROOT,
        "flotilla bench%s: %d processors, %d workers, Java %s, %s",
        quick ? " --quick" : "",
        Runtime.getRuntime().availableProcessors(),
        workers,
        Runtime.version(),
        py == null ? "no Python" : "Python " + py.version() + " (" + py.executable() + ")");
  }
}
