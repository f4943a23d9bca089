package io.flotilla.cluster;

import java.util.concurrent.CompletableFuture;

/**
 * SIGTERM and SIGINT as what they are to a long-running member of a cluster: a request to stop
 * gracefully, which the process answers by leaving and exiting 0.
 *
 * <p>Left to the JVM, either signal runs the shutdown hooks and the process then exits 128 + the
 * signal's number (143, 130), which supervisors and operators cannot tell from a kill. Handled here,
 * the signal only completes a future; whoever waits on it stops the member in its own time and returns
 * its own exit code. Other ways out (System.exit, SIGHUP) still run the shutdown hooks.
 *
 * <p>A signal that was ignored when the JVM started (a program started in the background by a script
 * ignores SIGINT) stays ignored: nothing in the process can catch it.
 */
public final class StopSignals {
  private StopSignals() {}

  /**
   * Catches SIGTERM and SIGINT from now on.
   *
   * @return completes with the first signal's name ({@code "SIGTERM"} or {@code "SIGINT"}); a later
   *     signal changes nothing, since the stop it asks for is already under way
   */
  public static CompletableFuture<String> install() {
    CompletableFuture<String> requested = new CompletableFuture<>();
    for (String name : new String[] {"TERM", "INT"}) {
      try {
        // sun.misc.Signal (module jdk.unsupported) is the JDK's only way to handle a signal in place of
        // its own handler, which would exit with 128 + the signal's number whatever the hooks do.
        sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> requested.complete("SIG" + signal.getName()));
      } catch (IllegalArgumentException taken) {
        // The JVM was told to leave this signal alone (-Xrs): its default stays.
      }
    }
    return requested;
  }
}
