package io.flotilla.internal.worker;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Ends this JVM when the process that launched it is gone: its stdin pipe reaches end of file, or
 * its parent pid changes (the kernel re-parents orphans). The first line read from stdin is the
 * secret token, which is passed there rather than on the command line where any local user could
 * read it.
 */
final class ParentWatch {
  /** How often the parent pid is checked; the stdin pipe usually notices first. */
  private static final long POLL_MILLIS = 500;

  /**
   * How long a worker already on its way out may take before a vanished parent turns the exit into
   * a halt. Leaving can take a moment (the JVM may be writing a class data archive, which the pool
   * closes stdin during); but a user's shutdown hook that never returns must not keep an orphan
   * alive.
   */
  private static final long LEAVING_GRACE_MILLIS = 30_000;

  private static volatile boolean leaving;

  private ParentWatch() {}

  /**
   * Starts watching stdin on a daemon thread.
   *
   * @param stdin the pipe from the parent
   * @return the first line read (the token), or {@code ""} if the pipe closed first
   */
  static CompletableFuture<String> watchStdin(InputStream stdin) {
    CompletableFuture<String> token = new CompletableFuture<>();
    Thread reader =
        new Thread(
            () -> {
              BufferedReader in =
                  new BufferedReader(new InputStreamReader(stdin, StandardCharsets.UTF_8));
              try {
                String first = in.readLine();
                token.complete(first == null ? "" : first);
                while (in.readLine() != null) {
                  // anything after the token is ignored; only end of file matters
                }
              } catch (IOException e) {
                // a broken pipe is the same news as end of file
              }
              token.complete("");
              orphaned("stdin from the parent process closed");
            },
            "flotilla-parent-stdin");
    reader.setDaemon(true);
    reader.start();
    return token;
  }

  /** Starts polling the parent pid on a daemon thread. */
  static void watchParentPid() {
    Optional<ProcessHandle> parent = ProcessHandle.current().parent();
    if (parent.isEmpty()) {
      orphaned("no parent process");
      return;
    }
    long parentPid = parent.get().pid();
    Thread poller =
        new Thread(
            () -> {
              while (true) {
                Optional<ProcessHandle> now = ProcessHandle.current().parent();
                if (now.isEmpty() || now.get().pid() != parentPid || !now.get().isAlive()) {
                  orphaned("parent process " + parentPid + " is gone");
                }
                try {
                  Thread.sleep(POLL_MILLIS);
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "flotilla-parent-pid");
    poller.setDaemon(true);
    poller.start();
  }

  /** The worker has decided to exit cleanly: the parent's going away is expected from now on. */
  static void leaving() {
    leaving = true;
  }

  private static void orphaned(String why) {
    if (leaving) {
      try {
        Thread.sleep(LEAVING_GRACE_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    System.err.println("flotilla worker exiting: " + why);
    System.err.flush();
    // halt, not exit: shutdown hooks of user code must not keep an orphan alive.
    Runtime.getRuntime().halt(WorkerExit.ORPHANED);
  }
}
