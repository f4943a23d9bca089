package io.flotilla.bench;

import io.flotilla.MapResults;
import io.flotilla.ProcessPool;
import io.flotilla.SerializableFunction;
import java.lang.management.ManagementFactory;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * {@code lazy}: whether a huge map runs in flat memory. Maps {@code x -> x} over 100,000,000
 * integers (10,000,000 with {@code --quick}) on the default process pool, with default options. The
 * input is an {@link Iterable} that generates its integers as it is read, never a collection, so
 * the map sees an input of unknown length and must read it as results are consumed.
 *
 * <p>Reports the time and rate of the whole map, and the caller's heap in use after a full
 * collection when 10% and when 100% of the results have been consumed ({@code heap_mb_10}, {@code
 * heap_mb_100}, in MiB); {@code flat} is whether the heap at 100% is at most 10% (or 2 MiB) above
 * the heap at 10%, that is, whether it did not grow with the input. (It may well be lower: at 10%
 * the map's window of chunks is in flight, at 100% it has drained.) {@code ahead_at_10} is how many
 * items the map had read beyond those consumed at the 10% mark. The collections are not timed. No
 * Python row: before 3.14, {@code ProcessPoolExecutor.map} reads its whole input at once.
 */
final class LazyMap {
  /** Below this, a difference in heap is collection noise, not growth. */
  private static final double NOISE_MB = 2;

  private LazyMap() {}

  static Benchmark benchmark() {
    return new Benchmark("lazy", LazyMap::run);
  }

  private static void run(Session s) {
    long n = s.size(100_000_000, 10_000_000);
    ProcessPool pool = s.pools().processes();
    s.progress("lazy: process (%,d items, one run; progress every 10%%)...", n);
    long tenth = n / 10;
    double heap10 = Double.NaN;
    long ahead10 = 0;
    long paused = 0;
    long consumed = 0;
    long sum = 0;
    long start = System.nanoTime();
    double heap100;
    SerializableFunction<Integer, Integer> identity = x -> x;
    Iterable<Integer> input = () -> integers(n);
    try (MapResults<Integer> results = pool.map(identity, input)) {
      while (results.hasNext()) {
        sum += results.next();
        consumed++;
        if (consumed % tenth == 0) {
          long pause = System.nanoTime();
          if (consumed == tenth) {
            ahead10 = results.submitted() - consumed;
            heap10 = heapMbAfterGc();
          }
          s.progress("lazy: %d%% after %.1f s", consumed * 100 / n, (pause - start - paused) / 1e9);
          paused += System.nanoTime() - pause;
        }
      }
      long pause = System.nanoTime();
      heap100 = heapMbAfterGc();
      paused += System.nanoTime() - pause;
    }
    double seconds = (System.nanoTime() - start - paused) / 1e9;
    if (consumed != n || sum != n * (n - 1) / 2) {
      s.inconsistent("lazy", "got " + consumed + " results summing to " + sum);
    }
    boolean flat = heap100 - heap10 <= Math.max(NOISE_MB, 0.1 * heap10);
    s.emit(
        Row.of("lazy", "process", pool.workers())
            .items(n)
            .seconds(seconds)
            .put("heap_mb_10", heap10)
            .put("heap_mb_100", heap100)
            .put("flat", flat)
            .put("ahead_at_10", ahead10));
  }

  /** 0, 1, ..., n-1, made as they are read. */
  private static Iterator<Integer> integers(long n) {
    return new Iterator<>() {
      private long next;

      @Override
      public boolean hasNext() {
        return next < n;
      }

      @Override
      public Integer next() {
        if (next >= n) {
          throw new NoSuchElementException();
        }
        return (int) next++;
      }
    };
  }

  private static double heapMbAfterGc() {
    // Two collections: the first may only move objects that the second can then free.
    System.gc();
    System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / (double) (1 << 20);
  }
}
