package io.flotilla.internal.worker;

import io.flotilla.proto.Sample;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryUsage;
import java.lang.management.OperatingSystemMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads this JVM's resources for a {@link Sample}: heap (the MemoryMXBean), resident memory ({@code
 * VmRSS} of {@code /proc/self/status}, on Linux), CPU time (the process's, from {@code
 * com.sun.management.OperatingSystemMXBean}) and garbage collection (counts and times summed over
 * the collectors). Totals only: the coordinator turns two samples into rates.
 *
 * <p>Cheap enough to run every second for the life of the worker: the MXBeans are looked up once,
 * and {@code /proc/self/status} (about 1.5 KiB) is read into a buffer kept from one sample to the
 * next and scanned as bytes. A sample allocates the message, a {@code MemoryUsage} and a file
 * handle, nothing in proportion to the heap or the threads.
 *
 * <p>Threading: not thread-safe (the buffer); a session samples from its one timer thread.
 */
final class ResourceSampler {
  private static final byte[] VM_RSS = "VmRSS:".getBytes(StandardCharsets.US_ASCII);

  private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
  private final List<GarbageCollectorMXBean> collectors =
      ManagementFactory.getGarbageCollectorMXBeans();

  /** Null on a JVM without the com.sun.management extension: CPU time then reads 0. */
  private final com.sun.management.OperatingSystemMXBean os;

  /**
   * {@code /proc/self/status}, or null where there is none (not Linux): resident memory reads 0.
   */
  private final Path status;

  /** Large enough for the whole of {@code /proc/self/status}, whose VmRSS line comes early. */
  private final byte[] buffer = new byte[8192];

  ResourceSampler() {
    this(Path.of("/proc/self/status"));
  }

  /**
   * @param status where the process's status file is, for tests; ignored if it does not exist
   */
  ResourceSampler(Path status) {
    OperatingSystemMXBean bean = ManagementFactory.getOperatingSystemMXBean();
    this.os = bean instanceof com.sun.management.OperatingSystemMXBean sun ? sun : null;
    this.status = Files.isReadable(status) ? status : null;
  }

  /**
   * @return the resources in use now
   */
  Sample sample() {
    MemoryUsage heap = memory.getHeapMemoryUsage();
    long gcCount = 0;
    long gcMillis = 0;
    for (GarbageCollectorMXBean gc : collectors) {
      // -1 for a collector that does not say.
      gcCount += Math.max(0, gc.getCollectionCount());
      gcMillis += Math.max(0, gc.getCollectionTime());
    }
    long cpu = os == null ? 0 : Math.max(0, os.getProcessCpuTime());
    return Sample.newBuilder()
        .setHeapUsedBytes(Math.max(0, heap.getUsed()))
        .setHeapMaxBytes(Math.max(0, heap.getMax()))
        .setRssBytes(residentBytes())
        .setCpuNanos(cpu)
        .setGcCount(gcCount)
        .setGcNanos(gcMillis * 1_000_000)
        .build();
  }

  /**
   * @return the resident set size, or 0 if it cannot be read
   */
  long residentBytes() {
    if (status == null) {
      return 0;
    }
    int length = 0;
    try (InputStream in = new FileInputStream(status.toFile())) {
      int n;
      while (length < buffer.length && (n = in.read(buffer, length, buffer.length - length)) > 0) {
        length += n;
      }
    } catch (IOException | RuntimeException e) {
      return 0;
    }
    return vmRssBytes(buffer, length);
  }

  /**
   * Finds {@code VmRSS:} at the start of a line and reads its value, which the kernel gives in kB
   * (KiB), e.g. {@code "VmRSS:\t 51234 kB"}.
   *
   * @param text the status file's bytes
   * @param length how many of them are read
   * @return the value in bytes, or 0 if there is no such line
   */
  static long vmRssBytes(byte[] text, int length) {
    outer:
    for (int line = 0; line < length; ) {
      if (line + VM_RSS.length <= length) {
        for (int i = 0; i < VM_RSS.length; i++) {
          if (text[line + i] != VM_RSS[i]) {
            line = nextLine(text, line, length);
            continue outer;
          }
        }
        int i = line + VM_RSS.length;
        while (i < length && (text[i] == ' ' || text[i] == '\t')) {
          i++;
        }
        long kib = 0;
        boolean digits = false;
        while (i < length && text[i] >= '0' && text[i] <= '9') {
          kib = kib * 10 + (text[i] - '0');
          digits = true;
          i++;
        }
        return digits ? kib * 1024 : 0;
      }
      return 0;
    }
    return 0;
  }

  private static int nextLine(byte[] text, int from, int length) {
    int i = from;
    while (i < length && text[i] != '\n') {
      i++;
    }
    return i + 1;
  }
}
