package io.flotilla.testing;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * What a test needs from the machine beyond a JDK (a Debian package, root), and the one rule for
 * when it is missing: the test is <em>skipped</em>, with a message naming what to install, so that
 * {@code ./mvnw verify} passes on a machine with nothing but a JDK; but when the environment
 * variable {@code CI} is {@code true} the test <em>fails</em> with the same message, so that a CI
 * machine that lacks something cannot pass by skipping.
 *
 * <p>Call {@link #require} first thing in the test (or in {@code @BeforeAll}, which skips or fails
 * the whole class). The probes ({@link #onPath}, {@link #runs}, {@link #root}) never throw; they
 * answer whether the thing is there.
 */
public final class Requirements {
  /** The environment variable that turns a skip into a failure when it is {@code true}. */
  public static final String CI = "CI";

  private Requirements() {}

  /**
   * @return whether this run must not skip: the environment variable {@code CI} is {@code true} (in
   *     any case)
   */
  public static boolean strict() {
    return "true".equalsIgnoreCase(System.getenv(CI));
  }

  /**
   * Goes on if the requirement is met; otherwise skips the calling test (JUnit reports it as
   * skipped, with the message) or, under {@code CI=true}, fails it.
   *
   * @param met whether the machine has it
   * @param needs what the test needs, as it would follow "needs": {@code "python3 with the grpc
   *     module"}
   * @param remedy what to do about it: {@code "apt-get install python3-grpcio python3-grpc-tools"}
   * @throws org.opentest4j.TestAbortedException if it is missing and {@code CI} is not {@code true}
   * @throws org.opentest4j.AssertionFailedError if it is missing and {@code CI} is {@code true}
   */
  public static void require(boolean met, String needs, String remedy) {
    if (met) {
      return;
    }
    String what = "needs " + needs + ": " + remedy;
    if (strict()) {
      Assertions.fail(
          what + " (CI=true: a missing requirement fails the test instead of skipping it)");
    }
    Assumptions.abort(what + " (skipped; with CI=true this fails)");
  }

  /**
   * @param command a command's name, such as {@code openssl}
   * @return whether an executable file of that name is in a directory of the {@code PATH}
   */
  public static boolean onPath(String command) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
        return true;
      }
    }
    return false;
  }

  /**
   * Runs a short command to see whether the machine can do something (import a Python module, make
   * a network namespace).
   *
   * @param command the command and its arguments
   * @return whether it started, finished within a minute and exited with 0; its output is discarded
   */
  public static boolean runs(List<String> command) {
    return output(command) != null;
  }

  /**
   * @param command the command and its arguments
   * @return what it printed on stdout and stderr together, if it started, finished within a minute
   *     and exited with 0; {@code null} otherwise
   */
  public static String output(List<String> command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getOutputStream().close();
      String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return null;
      }
      return p.exitValue() == 0 ? output : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /**
   * @return whether this JVM runs as root (user id 0)
   */
  public static boolean root() {
    try {
      return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return "root".equals(System.getProperty("user.name"));
    }
  }
}
