package io.flotilla.internal.link;

/**
 * Settings for the Netty inside gRPC ({@code grpc-netty-shaded}) that both ends of the worker link
 * apply before Netty's first class loads, since Netty reads them once, in static initializers.
 */
public final class NettyDefaults {
  /**
   * Netty's buffer allocator declares Flight Recorder events, and merely registering them loads the
   * Flight Recorder's metadata: about 0.3 s of a worker's start and 5 MiB of its memory, measured
   * here, for events nobody records. The shaded Netty reads its own, renamed property.
   */
  static final String FLIGHT_RECORDER_EVENTS = "io.grpc.netty.shaded.io.netty.jfr.enabled";

  private NettyDefaults() {}

  /**
   * Turns off what a pool does not use, unless the JVM was told otherwise on its command line. Has
   * no effect once the shaded Netty is loaded (a caller that used gRPC before creating a pool).
   */
  public static void apply() {
    if (System.getProperty(FLIGHT_RECORDER_EVENTS) == null) {
      System.setProperty(FLIGHT_RECORDER_EVENTS, "false");
    }
  }
}
