package io.flotilla.internal.cluster;

import java.util.concurrent.CompletableFuture;

/**
 * SIGTERM and SIGINT as what they are to a long-running member of a cluster: a request to stop
 * gracefully, which the process answers by leaving and exiting 0.
 *
 * <p>Left to the JVM, either signal runs the shutdown hooks and the process then exits 128 + the
 * signal's number (143, 130), which supervisors and operators cannot tell from a kill. Handled
 * here, the signal only completes a future; whoever waits on it stops the member in its own time
 * and returns its own exit code. Other ways out (System.exit, SIGHUP) still run the shutdown hooks.
 *
 * <p>A signal that was ignored when the JVM started (a program started in the background by a
 * script ignores SIGINT) stays ignored: nothing in the process can catch it.
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
      handle(name, requested);
    }
    return requested;
  }

  /**
   * sun.misc.Signal (module jdk.unsupported) is the JDK's only way to handle a signal in place of
   * its own handler, which would exit with 128 + the signal's number whatever the hooks do. It is
   * reached reflectively: javac's warning about proprietary API cannot be suppressed, and the build
   * allows no warning.
   */
  private static void handle(String name, CompletableFuture<String> requested) {
    try {
      Class<?> signal = Class.forName("sun.misc.Signal");
      Class<?> handler = Class.forName("sun.misc.SignalHandler");
      java.lang.reflect.Method signalName = signal.getMethod("getName");
      Object onSignal =
          java.lang.reflect.Proxy.newProxyInstance(
              handler.getClassLoader(),
              new Class<?>[] {handler},
              (proxy, method, args) ->
                  switch (method.getName()) {
                    case "handle" -> {
                      requested.complete("SIG" + signalName.invoke(args[0]));
                      yield null;
                    }
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> "flotilla stop-signal handler";
                  });
      signal
          .getMethod("handle", signal, handler)
          .invoke(null, signal.getConstructor(String.class).newInstance(name), onSignal);
    } catch (java.lang.reflect.InvocationTargetException taken) {
      // The JVM was told to leave this signal alone (-Xrs): its default stays.
    } catch (ReflectiveOperationException | RuntimeException absent) {
      // A JDK without jdk.unsupported: the signal keeps the JVM's default (shutdown hooks, 128 +
      // N).
    }
  }
}
