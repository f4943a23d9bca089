package io.flotilla.cli.cluster;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A {@code flotilla} command in a JVM of its own, with this test's class path, possibly inside a
 * network namespace; its output lines (stdout and stderr) are kept for the test to wait on and
 * read.
 */
public final class ChildJvm implements AutoCloseable {
  private final String name;
  private final Process process;
  private final List<String> lines = new CopyOnWriteArrayList<>();
  private final Thread reader;

  public ChildJvm(String name, String namespace, Map<String, String> env, String... args)
      throws IOException {
    this.name = name;
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
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
    ProcessBuilder builder =
        new ProcessBuilder(NetnsHosts.in(namespace, command)).redirectErrorStream(true);
    builder.environment().remove("FLOTILLA_SECRET");
    builder.environment().putAll(env);
    process = builder.start();
    reader =
        new Thread(
            () -> {
              try (BufferedReader in =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                  lines.add(line);
                }
              } catch (IOException closed) {
                // the process is gone
              }
            },
            name + "-output");
    reader.setDaemon(true);
    reader.start();
  }

  /**
   * Starts {@code flotilla coordinator} on loopback, on free ports, and waits until it serves.
   *
   * @param dataDir its --data-dir
   * @param secret the cluster secret, given through FLOTILLA_SECRET
   * @param wait how long it may take to start
   * @return the running coordinator; {@link #grpcAddress()} says where
   */
  public static ChildJvm coordinator(Path dataDir, String secret, java.time.Duration wait)
      throws IOException {
    ChildJvm c =
        new ChildJvm(
            "coordinator",
            null,
            Map.of("FLOTILLA_SECRET", secret),
            "coordinator",
            "--port",
            "0",
            "--cluster-port",
            "0",
            "--dashboard",
            "127.0.0.1:0",
            "--data-dir",
            dataDir.toString());
    org.awaitility.Awaitility.await("the coordinator's ready line")
        .atMost(wait)
        .failFast(() -> !c.process().isAlive())
        .until(() -> c.line(READY) != null);
    return c;
  }

  private static final String READY = "flotilla coordinator ready:";

  /**
   * @return a coordinator's gRPC address, HOST:PORT, as its ready line gives it
   */
  public String grpcAddress() {
    String ready = line(READY);
    if (ready == null) {
      throw new IllegalStateException("no ready line yet; " + output());
    }
    int at = ready.indexOf("grpc=") + 5;
    return ready.substring(at, ready.indexOf(' ', at));
  }

  /**
   * @return the first line containing the text, or null
   */
  public String line(String containing) {
    for (String line : lines) {
      if (line.contains(containing)) {
        return line;
      }
    }
    return null;
  }

  /**
   * @return the lines containing the text
   */
  public List<String> lines(String containing) {
    return lines.stream().filter(l -> l.contains(containing)).toList();
  }

  /**
   * @return how many lines contain the text
   */
  public long count(String containing) {
    return lines.stream().filter(l -> l.contains(containing)).count();
  }

  public Process process() {
    return process;
  }

  /**
   * Sends the process a signal, as an operator or a supervisor does. Not {@link Process#destroy()}:
   * that also closes the pipes, and whatever the process says as it stops is lost.
   *
   * @param name the signal, e.g. "TERM"
   */
  public void signal(String name) throws IOException, InterruptedException {
    Process kill =
        new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
    if (!kill.waitFor(30, java.util.concurrent.TimeUnit.SECONDS) || kill.exitValue() != 0) {
      throw new IOException("kill -" + name + " " + process.pid() + " failed");
    }
  }

  /**
   * Waits for the process to exit and for everything it printed to be read: its last lines may
   * still be in the pipe when it has exited.
   *
   * @return whether both happened in time
   */
  public boolean waitFor(java.time.Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    if (!process.waitFor(timeout.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS)) {
      return false;
    }
    reader.join(
        Math.max(
            1, java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
    return !reader.isAlive();
  }

  /**
   * @return everything it printed so far, for failure messages
   */
  public String output() {
    return name + " printed:\n  " + String.join("\n  ", lines);
  }

  @Override
  public void close() {
    // `ip netns exec` replaces itself with the command, so the process is the JVM itself.
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    try {
      process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
