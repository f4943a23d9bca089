package io.flotilla.examples;

import io.flotilla.PoolExecutor;
import io.flotilla.ProcessPool;
import java.net.InetAddress;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.IntStream;

/**
 * The local map's loop on a cluster: workers that joined a coordinator, on this machine or others.
 * Nothing is installed on the workers for it: this program's classes travel to them when it
 * connects.
 *
 * <p>Start a cluster first ({@code ./flotilla coordinator}, {@code ./flotilla worker --join
 * 127.0.0.1:7600}); the argument is the coordinator's address. A coordinator with a secret needs it
 * in {@code FLOTILLA_SECRET} or {@code FLOTILLA_SECRET_FILE}.
 */
public final class ConnectToCluster {
  private ConnectToCluster() {}

  public static void main(String[] args) {
    String address = args.length > 0 ? args[0] : "127.0.0.1:7600";
    List<Integer> numbers = IntStream.range(0, 10_000).boxed().toList();

    try (PoolExecutor pool = ProcessPool.connect(address)) { // was: ProcessPool.local(2)
      System.out.println(
          "connected to "
              + address
              + "; workers: "
              + pool.workers()
              + ", threads: "
              + pool.parallelism());
      int primes = 0;
      for (boolean prime : pool.map(Primes::isPrime, numbers)) {
        if (prime) {
          primes++;
        }
      }
      System.out.println("cluster: " + primes + " primes below 10000");

      Set<String> ranOn = new TreeSet<>();
      for (String where : pool.map(n -> whereAmI(), List.of(1, 2, 3, 4))) {
        ranOn.add(where);
      }
      System.out.println("ran on: " + ranOn);
    }
  }

  static String whereAmI() throws Exception {
    return InetAddress.getLocalHost().getHostName() + " pid " + ProcessHandle.current().pid();
  }
}
