package io.flotilla.cli.jobs;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code flotilla top}: the fleet at a glance in a terminal, redrawn every second. */
@Command(
    name = "top",
    mixinStandardHelpOptions = true,
    description = {
      "Shows the cluster live in the terminal: workers, jobs and failures, redrawn every second.",
      "Reads the coordinator's dashboard (GET /api/fleet on its --dashboard port) and redraws in "
          + "place, as top does, until Ctrl-C. The first line sums up the fleet: workers, busy "
          + "threads of all, items per second, chunks queued, items done and failed. Then each "
          + "worker (host, pid, threads, busy, items done, task JVMs lost, heap, RSS, CPU cores "
          + "used, when it was last heard from, state), each job (id, client, function, progress, "
          + "items per second, time left, failed items, state), and the last few failures.",
      "Beyond loopback the dashboard asks for the cluster secret or a client token, read as the "
          + "job commands read theirs. Lines are cut to the terminal's width (COLUMNS, else the "
          + "terminal's own, else 120). flotilla status --watch is the same view.",
      "Example: flotilla top --dashboard 10.0.0.5:8787 --once"
    },
    exitCodeListHeading = "Exit codes:%n",
    exitCodeList = {
      "0:Printed its frame (--once).",
      "2:The command line is wrong.",
      "5:The dashboard wants a token, or refused the one given.",
      "7:No dashboard answers at that address, or it did not answer in time.",
      "8:The server there has no fleet to show (no Flotilla dashboard, or one too old).",
      "130:Stopped with Ctrl-C (SIGINT), the terminal restored."
    })
public final class TopCommand implements Callable<Integer> {
  @Option(
      names = "--dashboard",
      paramLabel = "URL",
      description =
          "The coordinator's dashboard: HOST:PORT as given to its --dashboard, or a URL "
              + "http(s)://HOST:PORT (default 127.0.0.1:8787, over HTTPS with --tls-dir).")
  String dashboard;

  @Option(
      names = "--interval",
      paramLabel = "DURATION",
      description = "Time between two frames, e.g. 2s, 500ms (default 1s).")
  String interval;

  @Option(
      names = "--once",
      description =
          "Print one frame as plain text, with no terminal control codes, and exit: for scripts.")
  boolean once;

  @Option(
      names = "--token-file",
      paramLabel = "FILE",
      description =
          "A file holding a client token (env FLOTILLA_TOKEN, FLOTILLA_TOKEN_FILE; the cluster secret, from FLOTILLA_SECRET or FLOTILLA_SECRET_FILE, is also a token). Needed beyond loopback.")
  Path tokenFile;

  @Option(
      names = "--tls-dir",
      paramLabel = "DIR",
      description =
          "The cluster's TLS directory, for a coordinator started with --tls-dir: the dashboard "
              + "then speaks HTTPS, and its ca.crt is trusted (env FLOTILLA_TLS_DIR).")
  Path tlsDir;

  @Override
  public Integer call() throws Exception {
    TopLoop watch = TopLoop.of(dashboard, interval, tokenFile, tlsDir, "top");
    return once ? watch.once(System.out, System.err) : watch.watch(System.out, System.err);
  }
}
