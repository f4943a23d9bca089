package io.flotilla.examples;

/** The work the examples hand out: a plain static method, nothing Flotilla-specific. */
public final class Primes {
  private Primes() {}

  /**
   * @param n any integer
   * @return whether it is prime, by trial division
   */
  public static boolean isPrime(int n) {
    if (n < 2) {
      return false;
    }
    for (int d = 2; (long) d * d <= n; d++) {
      if (n % d == 0) {
        return false;
      }
    }
    return true;
  }
}
