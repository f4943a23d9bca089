package io.flotilla.examples;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A cluster as the README starts one, for the examples that connect to it: {@code flotilla
 * coordinator} on loopback with one job-service client's token, and one {@code flotilla worker}
 * with two threads joined to it, each a JVM of its own running the command line with this test's
 * class path.
 */
final class ExampleCluster implements AutoCloseable {
  static final String TOKEN = "examples-token-0123456789abcdef";

  private static final long START_SECONDS = 120;

  private final Path dir;
  private final List<Process> processes = new ArrayList<>();
  private final String address;

  ExampleCluster(Path dir) throws IOException, InterruptedException {
    this.dir = dir;
    Path tokens = dir.resolve("tokens");
    Files.writeString(tokens, "examples " + TOKEN + "\n");
    Path coordinatorLog =
        start(
            "coordinator",
            "coordinator",
            "--port",
            "0",
            "--cluster-port",
            "0",
            "--dashboard",
            "127.0.0.1:0",
            "--tokens-file",
            tokens.toString(),
            "--data-dir",
            dir.resolve("data").toString());
    String ready =
        await(coordinatorLog, Pattern.compile("flotilla coordinator ready: grpc=(\\S+)"));
    address = ready;
    start(
        "worker",
        "worker",
        "--join",
        address,
        "--threads",
        "2",
        "--cache-dir",
        dir.resolve("cache").toString());
    await(coordinatorLog, Pattern.compile("worker \\S+ (ready with) "));
  }

  /**
   * @return the coordinator's gRPC address, host:port
   */
  String address() {
    return address;
  }

  private Path start(String name, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // As the ./flotilla launcher runs the command line.
    command.addAll(
        List.of(
            "--add-opens",
            "java.base/java.lang.invoke=ALL-UNNAMED",
            "--add-opens",
            "java.base/java.util=ALL-UNNAMED",
            "--add-opens",
            "java.base/java.lang=ALL-UNNAMED",
            "-Xmx256m",
            "-cp",
            System.getProperty("java.class.path"),
            "io.flotilla.cli.Main"));
    command.addAll(List.of(args));
    Path log = dir.resolve(name + ".log");
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().keySet().removeIf(k -> k.startsWith("FLOTILLA_"));
    Process p = builder.start();
    p.getOutputStream().close();
    processes.add(p);
    return log;
  }

  /**
   * @return the pattern's first group, once a line of the log matches it
   */
  private String await(Path log, Pattern pattern) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_SECONDS);
    while (System.nanoTime() < deadline) {
      Matcher m = pattern.matcher(Files.readString(log, StandardCharsets.UTF_8));
      if (m.find()) {
        return m.group(1);
      }
      if (processes.stream().anyMatch(p -> !p.isAlive())) {
        break;
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException(
        "no line matching '" + pattern + "' within " + START_SECONDS + " s:\n" + logs());
  }

  /**
   * @return what the coordinator and the worker printed, for failure messages
   */
  String logs() throws IOException {
    StringBuilder all = new StringBuilder();
    for (String name : List.of("coordinator", "worker")) {
      Path log = dir.resolve(name + ".log");
      if (Files.exists(log)) {
        all.append("--- ").append(name).append(" ---\n").append(Files.readString(log));
      }
    }
    return all.toString();
  }

  @Override
  public void close() {
    boolean interrupted = false;
    for (int i = processes.size() - 1; i >= 0; i--) {
      Process p = processes.get(i);
      p.destroy(); // SIGTERM: both stop gracefully
      try {
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          p.waitFor(30, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
