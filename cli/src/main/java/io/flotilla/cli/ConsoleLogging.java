package io.flotilla.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * The command line's logging: warnings and errors on stderr, one line each, and a coordinator
 * server's news. Set up in code rather than by a {@code logback.xml}, whose parsing cost a quarter
 * of a second of CPU at every start, measured here, while the pool's workers boot on the same two
 * cores. A file named by {@code -Dlogback.configurationFile} still takes over.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public final class ConsoleLogging extends ContextAwareBase implements Configurator {
  /** Logback's own property naming a configuration file. */
  private static final String CONFIGURATION_FILE = "logback.configurationFile";

  /** Called by Logback's service loader. */
  public ConsoleLogging() {}

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (System.getProperty(CONFIGURATION_FILE) != null) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern("%d{HH:mm:ss.SSS} %-5level %logger{20} - %msg%n");
    encoder.start();
    ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
    stderr.setContext(context);
    stderr.setName("STDERR");
    stderr.setTarget("System.err");
    stderr.setEncoder(encoder);
    stderr.start();
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.WARN);
    root.addAppender(stderr);
    // A coordinator server's comings and goings (clients, workers joining and lost) are its log,
    // and a
    // joined worker's or either command's stopping theirs.
    context.getLogger("io.flotilla.internal.server").setLevel(Level.INFO);
    context.getLogger("io.flotilla.internal.worker").setLevel(Level.INFO);
    context.getLogger("io.flotilla.cli.cluster").setLevel(Level.INFO);
    // Pekko's transport warns of every connection a departed member leaves broken, several lines
    // per
    // departure; the cluster's own account of who left (and Flotilla's) says it once.
    context.getLogger("org.apache.pekko.stream.Materializer").setLevel(Level.ERROR);
    context.getLogger("org.apache.pekko.remote.artery.compress").setLevel(Level.ERROR);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }
}
