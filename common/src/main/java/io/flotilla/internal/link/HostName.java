package io.flotilla.internal.link;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This machine's name, as workers and clients give it in their handshakes, error reports and logs.
 */
public final class HostName {
  private HostName() {}

  /**
   * Not {@code InetAddress.getLocalHost()}: that may wait seconds on a resolver, on the critical
   * path of every worker's start.
   *
   * @return this machine's name
   */
  public static String local() {
    String name = System.getenv("HOSTNAME");
    if (name != null && !name.isBlank()) {
      return name.trim();
    }
    try {
      return Files.readString(Path.of("/etc/hostname")).trim();
    } catch (IOException | RuntimeException e) {
      return "localhost";
    }
  }
}
