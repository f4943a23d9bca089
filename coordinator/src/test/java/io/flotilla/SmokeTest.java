package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SmokeTest {
  @Test
  void submitAndMap() throws Exception {
    long t0 = System.nanoTime();
    try (ProcessPool pool = ProcessPool.local(2)) {
      System.out.println("built after ms " + (System.nanoTime() - t0) / 1e6);
      assertThat(pool.submit(() -> 6 * 7).get()).isEqualTo(42);
      System.out.println("first result after ms " + (System.nanoTime() - t0) / 1e6);
      int k = 3;
      List<Integer> out = new ArrayList<>();
      for (int r : pool.map((Integer x) -> x * k, IntStream.range(0, 1000).boxed().toList())) {
        out.add(r);
      }
      assertThat(out).hasSize(1000);
      assertThat(out.get(999)).isEqualTo(2997);
      for (int rep = 0; rep < 5; rep++) {
        long s = System.nanoTime();
        long n = 0;
        for (long r : pool.map((Integer x) -> (long) x, IntStream.range(0, 1_000_000).boxed().toList())) {
          n += r;
        }
        System.out.println("1M map ms " + (System.nanoTime() - s) / 1e6 + " sum " + n);
      }
    }
    System.out.println("closed after ms " + (System.nanoTime() - t0) / 1e6);
  }
}
