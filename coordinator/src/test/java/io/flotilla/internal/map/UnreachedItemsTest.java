package io.flotilla.internal.map;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The rule for the rest of a chunk that ended short, without processes; the same rule at work on
 * real workers is in {@code PoisonItemTest} and {@code KillsDuringAMapTest}.
 */
class UnreachedItemsTest {
  /** A final outcome answering {@code size} items from {@code base}. */
  private static ChunkOutcome answering(int base, int size, boolean suspect) {
    return new ChunkOutcome() {
      @Override
      public int size() {
        return size;
      }

      @Override
      public int base() {
        return base;
      }

      @Override
      public boolean suspect() {
        return suspect;
      }

      @Override
      public Throwable error(int i) {
        return null;
      }

      @Override
      public Object value(int i) {
        return i;
      }

      @Override
      public long computeNanos() {
        return -1;
      }
    };
  }

  @Test
  void anOutcomeThatReachesTheLastItemLeavesNothing() {
    assertThat(UnreachedItems.after(answering(0, 10, false), 10)).isNull();
    assertThat(UnreachedItems.after(answering(4, 6, true), 10)).isNull();
  }

  @Test
  void aYieldedChunksRestResumesAsTwoHalvesTheSecondLaunchedFirst() {
    UnreachedItems rest = UnreachedItems.after(answering(2, 3, false), 10);
    assertThat(rest).isEqualTo(new UnreachedItems(5, 5, ChunkBackend.Start.RESUMED));
    assertThat(rest.halvesInLaunchOrder())
        .containsExactly(new UnreachedItems.Half(8, 2), new UnreachedItems.Half(5, 3));
  }

  @Test
  void aSuspectChunksRestRunsAsSuspectDownToOneItem() {
    UnreachedItems none = UnreachedItems.after(answering(0, 0, true), 4);
    assertThat(none).isEqualTo(new UnreachedItems(0, 4, ChunkBackend.Start.SUSPECT));
    assertThat(none.halvesInLaunchOrder())
        .containsExactly(new UnreachedItems.Half(2, 2), new UnreachedItems.Half(0, 2));
    assertThat(UnreachedItems.after(answering(0, 3, true), 4).halvesInLaunchOrder())
        .isEqualTo(List.of(new UnreachedItems.Half(3, 1)));
  }
}
