package io.flotilla.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Resident set sizes from Linux's {@code /proc}: what a process costs in memory actually touched.
 */
final class Rss {
  private Rss() {}

  /**
   * @return whether this system has {@code /proc/<pid>/status}
   */
  static boolean available() {
    return Files.isReadable(Path.of("/proc/self/status"));
  }

  /**
   * @param pid a process id, or {@code "self"}
   * @return its {@code VmRSS} in MiB
   * @throws IOException if it cannot be read (no such process, or no /proc)
   */
  static double megabytes(String pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", pid, "status"))) {
      if (line.startsWith("VmRSS:")) {
        // "VmRSS:     41236 kB"
        return Long.parseLong(line.substring(6).trim().split("\\s+")[0]) / 1024.0;
      }
    }
    throw new IOException("no VmRSS line in /proc/" + pid + "/status");
  }
}
