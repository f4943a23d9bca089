package io.flotilla;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/** Worker JVMs started by hand, and checks on their processes. */
public final class Processes {
  private Processes() {}

  /**
   * @param args the worker's arguments ({@code --join HOST:PORT}, ...)
   * @return the command line of a worker JVM as {@code flotilla worker} starts one: this JVM's java
   *     and class path, and the flags Kryo needs
   */
  public static List<String> workerCommand(String... args) {
    List<String> command =
        new java.util.ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-opens",
                "java.base/java.lang.invoke=ALL-UNNAMED",
                "--add-opens",
                "java.base/java.util=ALL-UNNAMED",
                "--add-opens",
                "java.base/java.lang=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                "io.flotilla.internal.worker.WorkerMain"));
    command.addAll(List.of(args));
    return command;
  }

  /**
   * @return whether the process is running; an exited process that its (new) parent has not reaped
   *     yet (a zombie, state Z in /proc) has exited and does not count
   */
  static boolean isRunning(long pid) {
    Optional<ProcessHandle> handle = ProcessHandle.of(pid);
    if (handle.isEmpty() || !handle.get().isAlive()) {
      return false;
    }
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      // Format: pid (comm) state ...; comm may contain spaces and parentheses.
      char state = stat.charAt(stat.lastIndexOf(')') + 2);
      return state != 'Z' && state != 'X';
    } catch (IOException | RuntimeException e) {
      return handle.get().isAlive();
    }
  }

  /** Waits until none of the processes runs. */
  static void awaitAllGone(Collection<Long> pids, Duration atMost) {
    await("worker processes " + pids + " to exit")
        .atMost(atMost)
        .until(() -> running(pids).isEmpty());
  }

  static List<Long> running(Collection<Long> pids) {
    return pids.stream().filter(Processes::isRunning).toList();
  }

  /** Kills a process with SIGKILL. */
  static void kill(long pid) {
    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
  }
}
