package io.flotilla.cli.chaos;

import io.flotilla.MapResults;
import io.flotilla.PoolStats;
import io.flotilla.ProcessPool;
import java.time.Duration;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;

/**
 * {@code flotilla chaos}: maps over a range again and again while worker JVMs are {@code kill -9}ed
 * at random, and checks that every item's result arrives exactly once and is right.
 */
@Command(
    name = "chaos",
    mixinStandardHelpOptions = true,
    description = {
      "Kills worker JVMs at random while maps run, and checks every result.",
      "Runs maps on a local ProcessPool while a random worker is killed with SIGKILL at a fixed interval, "
          + "checks that every result arrives once and is right, and prints one JSON line. With --cluster, "
          + "the same on a coordinator and worker hosts it starts, whose task JVMs die and are started "
          + "again. Loopback only; bounded by --duration."
    })
public final class ChaosCommand implements Callable<Integer> {
  @Option(names = "--items", paramLabel = "N", description = "Items per map (default: 1000000).")
  long items = 1_000_000;

  @Option(names = "--workers", paramLabel = "N", description = "Worker JVMs (default: 2).")
  int workers = 2;

  @Option(
      names = "--kill-every",
      paramLabel = "DURATION",
      converter = DurationConverter.class,
      description = "Interval between kills, such as 1s or 500ms (default: 1s).")
  Duration killEvery = Duration.ofSeconds(1);

  @Option(
      names = "--duration",
      paramLabel = "DURATION",
      converter = DurationConverter.class,
      description = "How long to keep mapping and killing, such as 60s or 2m (default: 60s).")
  Duration duration = Duration.ofSeconds(60);

  @Option(
      names = "--cluster",
      description =
          "Run on a cluster instead: a coordinator, --workers `flotilla worker` hosts on loopback and a"
              + " connected pool; their task JVMs are killed, with SIGKILL and by tasks that call"
              + " System.exit, and the hosts start them again.")
  boolean cluster;

  @Option(
      names = "--json",
      description =
          "Print only the JSON line (it is printed either way; this drops the narration).")
  boolean json;

  @Option(
      names = "--seed",
      paramLabel = "N",
      description = "Seed for choosing whom to kill (default: 1).")
  long seed = 1;

  /** The checked function: cheap, but every input has its own, verifiable output. */
  static long[] mix(Long i) {
    long z = i * 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return new long[] {i, z ^ (z >>> 31)};
  }

  static long expected(long i) {
    return mix(i)[1];
  }

  @Override
  public Integer call() {
    if (items < 1
        || workers < 1
        || killEvery.isNegative()
        || killEvery.isZero()
        || duration.isNegative()) {
      throw new picocli.CommandLine.ParameterException(
          new picocli.CommandLine(this),
          "--items and --workers must be at least 1 and --kill-every positive; got "
              + items
              + ", "
              + workers
              + ", "
              + killEvery);
    }
    if (cluster) {
      return ClusterChaos.run(workers, items, killEvery, duration, seed, json);
    }
    List<Long> input = LongStream.range(0, items).boxed().toList();
    AtomicLong kills = new AtomicLong();
    long start = System.nanoTime();
    long deadline = start + duration.toNanos();
    ScheduledExecutorService killer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "chaos-killer");
              t.setDaemon(true);
              return t;
            });
    PoolStats stats;
    Tally tally;
    try (ProcessPool pool = ProcessPool.builder().workers(workers).maxAttempts(10).build()) {
      Random random = new Random(seed);
      var unused =
          killer.scheduleAtFixedRate(
              () -> {
                List<Long> pids = pool.workerPids();
                if (!pids.isEmpty()) {
                  long pid = pids.get(random.nextInt(pids.size()));
                  ProcessHandle.of(pid)
                      .ifPresent(
                          p -> {
                            if (p.destroyForcibly()) {
                              kills.incrementAndGet();
                            }
                          });
                }
              },
              killEvery.toNanos(),
              killEvery.toNanos(),
              TimeUnit.NANOSECONDS);
      tally = new Tally();
      do {
        tally.oneMap(pool, input);
      } while (System.nanoTime() < deadline);
      killer.shutdownNow();
      stats = pool.stats();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    System.out.printf(
        Locale.ROOT,
        "{\"items\":%d,\"kills\":%d,\"retries\":%d,\"lost\":%d,\"duplicated\":%d,\"wrong\":%d,\"seconds\":%.1f}%n",
        tally.total,
        kills.get(),
        stats.retries(),
        tally.lost,
        tally.duplicated,
        tally.wrong,
        seconds);
    return tally.clean() ? 0 : 1;
  }

  /** Every result of the maps run so far, checked: each item once, and right. */
  static final class Tally {
    long total;
    long lost;
    long duplicated;
    long wrong;

    /** Runs one map over {@code input} and checks its results. */
    void oneMap(io.flotilla.PoolExecutor pool, List<Long> input) {
      long items = input.size();
      BitSet seen = new BitSet((int) Math.min(items, Integer.MAX_VALUE));
      long delivered = 0;
      try (MapResults<long[]> results = pool.mapUnordered(ChaosCommand::mix, input)) {
        while (results.hasNext()) {
          long[] r;
          try {
            r = results.next();
          } catch (RuntimeException e) {
            // A chunk out of attempts: its items are lost, which the count below reports.
            System.err.println("chaos: an item failed: " + e.getCause());
            continue;
          }
          delivered++;
          int index = (int) r[0];
          if (seen.get(index)) {
            duplicated++;
          } else {
            seen.set(index);
          }
          if (r[1] != expected(r[0])) {
            wrong++;
          }
        }
      }
      lost += items - seen.cardinality();
      total += items;
      if (delivered > items) {
        System.err.println("chaos: " + (delivered - items) + " results more than items");
      }
    }

    boolean clean() {
      return lost == 0 && duplicated == 0 && wrong == 0;
    }
  }

  /** Reads "500ms", "1s", "2m", or an ISO-8601 duration. */
  static final class DurationConverter implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      String v = value.trim().toLowerCase(Locale.ROOT);
      try {
        if (v.endsWith("ms")) {
          return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
        }
        if (v.endsWith("s")) {
          return Duration.ofMillis(
              Math.round(Double.parseDouble(v.substring(0, v.length() - 1)) * 1000));
        }
        if (v.endsWith("m")) {
          return Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1)) * 60);
        }
        return Duration.parse(value);
      } catch (RuntimeException e) {
        throw new picocli.CommandLine.TypeConversionException(
            "'" + value + "' is not a duration: write it like 500ms, 1s or 2m");
      }
    }
  }
}
