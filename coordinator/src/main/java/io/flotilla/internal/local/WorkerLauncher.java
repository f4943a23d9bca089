package io.flotilla.internal.local;

import io.flotilla.internal.launch.WorkerJvmFlags;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Builds the command line of a local worker JVM and starts it. */
public final class WorkerLauncher {
  private static final String MAIN_CLASS = WorkerJvmFlags.MAIN_CLASS;

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
    command.addAll(WorkerJvmFlags.DEFAULTS);
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
