package io.flotilla;

import java.util.Map;
import java.util.concurrent.TimeoutException;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.LifecycleMethodExecutionExceptionHandler;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;

/**
 * What to do when a test hangs (JUnit's {@code @Timeout} fires) or waits in vain for a condition
 * (Awaitility gives up): print every thread's stack, so the report shows where it was stuck, and on
 * a real hang kill the workers of every live pool, so the cleanup that follows cannot block too.
 * The failure itself is rethrown unchanged.
 */
final class HangGuard
    implements TestExecutionExceptionHandler, LifecycleMethodExecutionExceptionHandler {

  @Override
  public void handleTestExecutionException(ExtensionContext context, Throwable error)
      throws Throwable {
    onFailure(context, error);
    throw error;
  }

  @Override
  public void handleBeforeAllMethodExecutionException(ExtensionContext context, Throwable error)
      throws Throwable {
    onFailure(context, error);
    throw error;
  }

  @Override
  public void handleBeforeEachMethodExecutionException(ExtensionContext context, Throwable error)
      throws Throwable {
    onFailure(context, error);
    throw error;
  }

  @Override
  public void handleAfterEachMethodExecutionException(ExtensionContext context, Throwable error)
      throws Throwable {
    onFailure(context, error);
    throw error;
  }

  @Override
  public void handleAfterAllMethodExecutionException(ExtensionContext context, Throwable error)
      throws Throwable {
    onFailure(context, error);
    throw error;
  }

  private static void onFailure(ExtensionContext context, Throwable error) {
    boolean hang = error instanceof TimeoutException;
    if (hang || error instanceof ConditionTimeoutException) {
      dumpThreads(
          context.getDisplayName()
              + (hang ? " timed out" : " waited in vain: " + error.getMessage()));
    }
    if (hang) {
      Pools.killAllWorkers();
    }
  }

  static void dumpThreads(String why) {
    StringBuilder dump = new StringBuilder("\n===== thread dump: ").append(why).append(" =====\n");
    for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
      Thread t = e.getKey();
      dump.append('"').append(t.getName()).append("\" ").append(t.getState());
      dump.append(t.isDaemon() ? " daemon\n" : "\n");
      for (StackTraceElement frame : e.getValue()) {
        dump.append("    at ").append(frame).append('\n');
      }
    }
    System.err.println(dump.append("===== end of thread dump =====\n"));
  }
}
