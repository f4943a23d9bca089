package io.flotilla;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * What this JVM logs while it is open, as the lines an operator reads: a coordinator server started
 * in the test's JVM logs here.
 */
final class CapturedLog implements AutoCloseable {
  private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  CapturedLog() {
    appender.setContext(root.getLoggerContext());
    appender.start();
    root.addAppender(appender);
  }

  /**
   * @return each WARN line and worse so far, as "LEVEL logger - message"
   */
  List<String> warnings() {
    // The appender appends under its own lock.
    synchronized (appender) {
      return appender.list.stream()
          .filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
          .map(e -> e.getLevel() + " " + e.getLoggerName() + " - " + e.getFormattedMessage())
          .toList();
    }
  }

  /**
   * @return the WARN lines (or worse) containing every one of the texts
   */
  List<String> warnings(String... containing) {
    return warnings().stream()
        .filter(l -> java.util.Arrays.stream(containing).allMatch(l::contains))
        .toList();
  }

  @Override
  public void close() {
    root.detachAppender(appender);
    appender.stop();
  }
}
