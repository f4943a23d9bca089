package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A worker that dies while its 50 MB result is on the wire: the partial message is discarded, the
 * task runs again, and the result that arrives is whole.
 */
class CrashWhileStreamingTest extends PoolTestBase {
  private ProcessPool pool;

  @AfterEach
  void stop() throws Exception {
    Pools.shutDown(pool);
  }

  /**
   * 50 MB that, on the first attempt, sets off the worker's death right after it has been encoded:
   * the halt then lands while the network thread is writing the message.
   */
  static final class BigResult implements com.esotericsoftware.kryo.KryoSerializable {
    byte[] data;
    String firstTry;

    BigResult() {}

    BigResult(byte[] data, String firstTry) {
      this.data = data;
      this.firstTry = firstTry;
    }

    @Override
    public void write(
        com.esotericsoftware.kryo.Kryo kryo, com.esotericsoftware.kryo.io.Output out) {
      out.writeInt(data.length);
      out.writeBytes(data);
      if (firstTry != null && !Files.exists(Path.of(firstTry))) {
        Signals.touch(firstTry);
        Thread killer =
            new Thread(
                () -> {
                  try {
                    TimeUnit.MILLISECONDS.sleep(2);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                  Runtime.getRuntime().halt(9);
                });
        killer.start();
      }
    }

    @Override
    public void read(com.esotericsoftware.kryo.Kryo kryo, com.esotericsoftware.kryo.io.Input in) {
      data = in.readBytes(in.readInt());
    }
  }

  @Test
  void aWorkerDyingMidResultLosesNothingAndCorruptsNothing() throws Exception {
    pool = Pools.process(ProcessPool.builder().workers(2));
    String firstTry = signals.marker("first-try");
    CompletableFuture<BigResult> big =
        pool.submit(
            () -> {
              byte[] result = new byte[50 << 20];
              Arrays.fill(result, (byte) 7);
              result[result.length - 1] = 42;
              return new BigResult(result, firstTry);
            });
    byte[] got = big.get(TestTime.LONG.toMillis(), TimeUnit.MILLISECONDS).data;
    assertThat(got).hasSize(50 << 20);
    assertThat(got[got.length - 1]).isEqualTo((byte) 42);
    assertThat(got[got.length / 2]).isEqualTo((byte) 7);
    assertThat(signals.exists(firstTry)).isTrue();
    assertThat(pool.stats().crashes()).as("the first attempt's worker died").isEqualTo(1);
  }
}
