package io.flotilla.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The demo's verdicts, from figures as the demo measures them on a 2-core machine: each says what
 * was measured, and names a cause only where a figure shows it.
 */
class VerdictTest {
  /** The demo's hash items, hashOne(0..19): item n costs n(n-1)/2 units; 11.4 s in all. */
  private static final double[] HASH_ITEMS =
      IntStream.range(0, 20).mapToDouble(n -> n * (n - 1) / 2.0 * 0.01).toArray();

  /**
   * Figures to start from: the demo's hash on a quiet machine; each test changes what it is about.
   */
  private static final class F {
    int items = 20;
    double serial = 11.4;
    double thread = 11.4 / 1.85;
    double process = 11.4 / 1.67;
    double[] itemSeconds = HASH_ITEMS;
    int processors = 2;
    int threads = 6;
    int workers = 2;
    double serialCpu = 0.99;
    double threadCores = 1.9;
    double processCores = 1.85;
    double threadRoundTrip = 30e-6;
    double processRoundTrip = 300e-6;
    double bytesPerItem = 70;
    double copySecondsPerItem = 20e-6;
    boolean consistent = true;

    F speedUps(double threadSpeedUp, double processSpeedUp) {
      thread = serial / threadSpeedUp;
      process = serial / processSpeedUp;
      return this;
    }

    String verdict() {
      return Verdict.of(
          new Verdict.Figures(
              items,
              serial,
              thread,
              process,
              itemSeconds,
              processors,
              threads,
              workers,
              serialCpu,
              threadCores,
              processCores,
              threadRoundTrip,
              processRoundTrip,
              bytesPerItem,
              copySecondsPerItem,
              consistent));
    }
  }

  @Test
  void hashWithProcessesBehindThreadsSaysBothAndInventsNoCopying() {
    String verdict = new F().speedUps(1.85, 1.67).verdict();
    assertThat(verdict).contains("1.85x", "1.67x").doesNotContain("copy");
  }

  @Test
  void shortResultsAreNotBlamedWhenProcessesTrailClearly() {
    // Each result is a 64-character digest: copying 20 of them costs well under a millisecond.
    String verdict = new F().speedUps(1.85, 1.55).verdict();
    assertThat(verdict).startsWith("threads").contains("1.85x", "1.55x").doesNotContain("copy");
  }

  @Test
  void itemsOfUnequalCostAreNamedWhenTheyBoundTheWorkersBelowTheThreads() {
    // Six threads on two cores share them to the end; two workers taking items in order cannot, and
    // hashOne(19) alone is 15% of the work.
    String verdict = new F().speedUps(1.98, 1.80).verdict();
    assertThat(verdict).contains("1.98x", "1.80x", "at most 1.85x");
  }

  @Test
  void aBusyMachineIsNotTooLittleWorkPerItem() {
    F busy = new F();
    busy.serialCpu = 0.7;
    busy.threadCores = 1.02;
    busy.processCores = 0.98;
    String verdict = busy.speedUps(1.06, 1.04).verdict();
    assertThat(verdict).doesNotContain("too little work").contains("1.0 of 2 cores", "busy");
  }

  @Test
  void aLoopShorterThanAFewRoundTripsStaysSerial() {
    F primes = new F();
    primes.items = 1000;
    primes.serial = 0.0031;
    primes.itemSeconds = IntStream.range(0, 1000).mapToDouble(i -> 3.1e-6).toArray();
    primes.bytesPerItem = 6;
    String verdict = primes.speedUps(0.8, 0.5).verdict();
    assertThat(verdict).startsWith("serial").contains("3.10 ms", "10 round trips", "0.30 ms");
    primes.serial = 0.00006;
    assertThat(primes.verdict())
        .startsWith("serial")
        .contains("0.06 ms", "less than one round trip");
  }

  @Test
  void workThatWaitsIsToldByTheSerialLoopsCpu() {
    F download = new F();
    download.items = 200;
    download.serial = 4.1;
    download.itemSeconds = IntStream.range(0, 200).mapToDouble(i -> 0.0205).toArray();
    download.serialCpu = 0.04;
    download.threadCores = 0.3;
    download.processCores = 0.2;
    String verdict = download.speedUps(5.86, 1.95).verdict();
    assertThat(verdict).startsWith("threads").contains("5.86x", "waits", "4%");
  }

  @Test
  void largeResultsAreBlamedWhenTheirCopyingAccountsForTheGap() {
    F wordcount = new F();
    wordcount.items = 16;
    wordcount.serial = 1.6;
    wordcount.itemSeconds = IntStream.range(0, 16).mapToDouble(i -> 0.1).toArray();
    wordcount.bytesPerItem = 250_000;
    wordcount.copySecondsPerItem = 0.03;
    String verdict = wordcount.speedUps(1.88, 1.23).verdict();
    assertThat(verdict).startsWith("threads").contains("250 kB", "between processes");
  }

  @Test
  void threadsThatGotLessCpuAreSaidToHaveGotLess() {
    F f = new F();
    f.threadCores = 1.3;
    f.processCores = 1.9;
    String verdict = f.speedUps(1.3, 1.9).verdict();
    assertThat(verdict).startsWith("processes").contains("1.90x", "1.30x", "1.3 cores", "1.9");
  }

  @Test
  void evenSpeedUpsAreEitherWithBothFigures() {
    String verdict = new F().speedUps(1.95, 1.9).verdict();
    assertThat(verdict).startsWith("either").contains("1.95x", "1.90x");
  }

  @Test
  void differentResultsAreABug() {
    F f = new F();
    f.consistent = false;
    assertThat(f.verdict()).contains("results differ between executors");
  }

  @Test
  void figuresNotMeasuredAreNotUsed() {
    // A cluster's workers are elsewhere: their CPU is not known here.
    F cluster = new F();
    cluster.processCores = Double.NaN;
    cluster.threadCores = 1.02;
    String verdict = cluster.speedUps(1.02, 1.03).verdict();
    assertThat(verdict).doesNotContain("NaN").doesNotContain("too little work");
  }
}
