package io.flotilla.internal.dashboard;

/** Flotilla's own version, as its jar's manifest states it. */
final class Versions {
  private Versions() {}

  static String flotilla() {
    String v = Versions.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }
}
