package io.flotilla.examples;

import io.flotilla.PoolExecutor;
import io.flotilla.ProcessPool;
import io.flotilla.ThreadPool;
import java.util.List;
import java.util.stream.IntStream;

/**
 * A map on a local pool: the same loop on two threads of this JVM, then on two worker JVMs. Where
 * the work runs is decided by the one line that makes the pool.
 */
public final class LocalMap {
  private LocalMap() {}

  public static void main(String[] args) {
    List<Integer> numbers = IntStream.range(0, 10_000).boxed().toList();

    try (PoolExecutor pool = ThreadPool.of(2)) {
      System.out.println("threads:   " + countPrimes(pool, numbers) + " primes below 10000");
    }
    try (PoolExecutor pool = ProcessPool.local(2)) { // the one changed line
      System.out.println("processes: " + countPrimes(pool, numbers) + " primes below 10000");
    }
  }

  static int countPrimes(PoolExecutor pool, List<Integer> numbers) {
    int primes = 0;
    // Results come in input order; the input is read lazily, a bounded window of chunks at a time.
    for (boolean prime : pool.map(Primes::isPrime, numbers)) {
      if (prime) {
        primes++;
      }
    }
    return primes;
  }
}
