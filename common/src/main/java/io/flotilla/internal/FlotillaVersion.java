package io.flotilla.internal;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * Flotilla's own version, as Maven built it: what a worker tells its coordinator in Hello, for
 * {@code flotilla status}. It is read from {@code io/flotilla/version.properties}, a resource of
 * this module that Maven fills in, once, on first use.
 */
public final class FlotillaVersion {
  private static final String VERSION = load();

  private FlotillaVersion() {}

  /**
   * @return the version, e.g. {@code 0.1.0-SNAPSHOT}; {@code "unknown"} if the resource is missing
   *     or was never filled in (classes compiled by something other than Maven)
   */
  public static String get() {
    return VERSION;
  }

  private static String load() {
    try (InputStream in =
        FlotillaVersion.class.getResourceAsStream("/io/flotilla/version.properties")) {
      if (in == null) {
        return "unknown";
      }
      Properties p = new Properties();
      p.load(in);
      String v = p.getProperty("version", "").trim();
      return v.isEmpty() || v.startsWith("${") ? "unknown" : v;
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }
}
