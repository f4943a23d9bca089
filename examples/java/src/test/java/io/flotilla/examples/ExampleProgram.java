package io.flotilla.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs an example's {@code main} as a user would: a JVM of its own with nothing but the examples'
 * class path (this module's classes and its runtime dependencies, as {@code
 * target/runtime-classpath.txt} lists them), no test jars and no JVM flags.
 */
final class ExampleProgram {
  private static final long TIMEOUT_SECONDS = 180;

  private ExampleProgram() {}

  /** What the program printed (stdout and stderr together), once it exited with status 0. */
  record Output(String text) {
    List<String> lines() {
      return text.lines().toList();
    }
  }

  /**
   * @param dir where to keep the program's output
   * @param env variables to add to a copy of this environment without any FLOTILLA_ ones
   * @param main the example
   * @param args its arguments
   * @return its output; fails the test if it does not exit with 0 within three minutes
   */
  static Output run(Path dir, Map<String, String> env, Class<?> main, String... args)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(List.of("-cp", classPath(), main.getName()));
    command.addAll(List.of(args));
    Path log = dir.resolve(main.getSimpleName() + ".out");
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().keySet().removeIf(k -> k.startsWith("FLOTILLA_"));
    builder.environment().putAll(env);
    Process p = builder.start();
    p.getOutputStream().close();
    boolean exited = p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    if (!exited) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      p.waitFor(30, TimeUnit.SECONDS);
    }
    String text = Files.readString(log, StandardCharsets.UTF_8);
    assertThat(exited)
        .as("%s ends within %d s; it printed:%n%s", main.getSimpleName(), TIMEOUT_SECONDS, text)
        .isTrue();
    assertThat(p.exitValue())
        .as("%s's exit status; it printed:%n%s", main.getSimpleName(), text)
        .isZero();
    return new Output(text);
  }

  /**
   * target/classes and the runtime dependencies the build listed; surefire runs in the module's
   * directory.
   */
  private static String classPath() throws IOException {
    Path listed = Path.of("target", "runtime-classpath.txt");
    assertThat(listed).as("written by the build's process-classes phase").isRegularFile();
    return Path.of("target", "classes").toAbsolutePath()
        + File.pathSeparator
        + Files.readString(listed).strip();
  }
}
