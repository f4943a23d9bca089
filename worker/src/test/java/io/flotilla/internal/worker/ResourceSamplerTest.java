package io.flotilla.internal.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.proto.Sample;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResourceSamplerTest {
  @TempDir Path dir;

  @Test
  void aSampleOfThisJvmHasAHeapAndCpuTimeAndItsTotalsNeverGoBack() {
    ResourceSampler sampler = new ResourceSampler();
    Sample first = sampler.sample();
    assertThat(first.getHeapUsedBytes()).isPositive();
    assertThat(first.getHeapMaxBytes()).isGreaterThanOrEqualTo(0);
    assertThat(first.getCpuNanos()).isPositive();
    if (Files.isReadable(Path.of("/proc/self/status"))) {
      assertThat(first.getRssBytes()).isGreaterThan(first.getHeapUsedBytes() / 16).isPositive();
    } else {
      assertThat(first.getRssBytes()).isZero();
    }
    long spin = 0;
    for (int i = 0; i < 5_000_000; i++) {
      spin += Integer.toString(i).length();
    }
    assertThat(spin).isPositive();
    Sample second = sampler.sample();
    assertThat(second.getCpuNanos()).isGreaterThanOrEqualTo(first.getCpuNanos());
    assertThat(second.getGcCount()).isGreaterThanOrEqualTo(first.getGcCount());
    assertThat(second.getGcNanos()).isGreaterThanOrEqualTo(first.getGcNanos());
  }

  @Test
  void residentMemoryIsReadFromTheVmRssLineInKibibytes() throws Exception {
    Path status = dir.resolve("status");
    Files.writeString(
        status,
        "Name:\tjava\nVmPeak:\t 9999999 kB\nVmRSSX:\t1 kB\nVmRSS:\t   51234 kB\nRssAnon:\t 1 kB\n");
    assertThat(new ResourceSampler(status).residentBytes()).isEqualTo(51234L * 1024);
  }

  @Test
  void residentMemoryIsZeroWhenUnknown() throws Exception {
    assertThat(new ResourceSampler(dir.resolve("absent")).residentBytes()).isZero();
    byte[] noRss = "Name:\tjava\nVmSize:\t 5 kB\n".getBytes(StandardCharsets.US_ASCII);
    assertThat(ResourceSampler.vmRssBytes(noRss, noRss.length)).isZero();
    byte[] cut = "VmRSS:".getBytes(StandardCharsets.US_ASCII);
    assertThat(ResourceSampler.vmRssBytes(cut, cut.length)).isZero();
    assertThat(ResourceSampler.vmRssBytes(new byte[0], 0)).isZero();
  }
}
