package io.flotilla.internal.local;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Builds the command line of a local worker JVM and starts it. */
public final class WorkerLauncher {
  /**
   * Flags every worker gets before the user's own. Serial GC and a prompt exit on heap exhaustion
   * suit a small, single-purpose JVM (and turn an OutOfMemoryError into a crash the pool can
   * report); the opens let Kryo rebuild lambdas and JDK collections without warnings; crash logs go
   * to the temp directory instead of the caller's working directory. The JVM's own messages go to
   * stderr, where the crash report's tail is taken from: "Terminating due to
   * java.lang.OutOfMemoryError: Java heap space" would otherwise go to stdout and a heap exhaustion
   * read as a bare exit code 3.
   */
  static final List<String> DEFAULT_FLAGS =
      List.of(
          "-XX:+UseSerialGC",
          "-XX:+ExitOnOutOfMemoryError",
          "-XX:+DisplayVMOutputToStderr",
          "-Xshare:auto",
          // Building a class data archive warns about every class it cannot take (generated
          // accessors,
          // JFR events): expected, and no concern of the user's.
          "-Xlog:cds*=off",
          "-XX:ErrorFile="
              + System.getProperty("java.io.tmpdir")
              + File.separator
              + "flotilla-worker-hs_err_%p.log",
          "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
          "--add-opens=java.base/java.lang=ALL-UNNAMED",
          "--add-opens=java.base/java.util=ALL-UNNAMED");

  private static final String MAIN_CLASS = "io.flotilla.internal.worker.WorkerMain";

  private final LaunchOptions options;
  private final ClassDataArchive archive;

  /**
   * @param options how to start workers
   */
  public WorkerLauncher(LaunchOptions options) {
    this.options = options;
    this.archive =
        options.classDataSharing()
            ? ClassDataArchive.forWorkers(
                options.javaExecutable(), options.classPath(), options.jvmArgs())
            : null;
  }

  /**
   * Starts a worker that will connect to {@code 127.0.0.1:port}.
   *
   * @param id the worker's id
   * @param port the coordinator's port
   * @param token the secret, written to the worker's stdin
   * @return the started worker
   * @throws IOException if the process cannot be started
   */
  public LocalWorker launch(String id, int port, String token) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(options.javaExecutable());
    command.add("-cp");
    command.add(options.classPath());
    command.addAll(DEFAULT_FLAGS);
    ClassDataArchive.Flags sharing = archive == null ? null : archive.nextLaunch();
    if (sharing != null) {
      command.addAll(sharing.jvmFlags());
    }
    command.addAll(options.jvmArgs());
    for (Map.Entry<String, String> p : options.systemProperties().entrySet()) {
      command.add("-D" + p.getKey() + "=" + p.getValue());
    }
    command.add(MAIN_CLASS);
    command.add("--connect");
    command.add("127.0.0.1:" + port);
    command.add("--id");
    command.add(id);
    command.add("--threads");
    command.add(Integer.toString(options.threads()));
    command.add("--max-message-bytes");
    command.add(Integer.toString(options.maxMessageBytes()));
    command.add("--token-stdin");
    command.add("--watch-parent");
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().putAll(options.environment());
    return new LocalWorker(
        id,
        builder.start(),
        token,
        sharing != null && sharing.partial() != null,
        code -> {
          if (sharing != null) {
            archive.exited(sharing, code);
          }
        });
  }
}
