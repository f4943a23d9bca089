package io.flotilla.internal.launch;

import java.io.File;
import java.util.List;

/** The JVM flags every worker JVM starts with, whoever starts it: a local pool or a worker host. */
public final class WorkerJvmFlags {
  /**
   * Flags every worker gets before the user's own. Serial GC and a prompt exit on heap exhaustion
   * suit a small, single-purpose JVM (and turn an OutOfMemoryError into a crash the pool can
   * report); the opens let Kryo rebuild lambdas and JDK collections without warnings; crash logs go
   * to the temp directory instead of the caller's working directory. The JVM's own messages go to
   * stderr, where the crash report's tail is taken from: "Terminating due to
   * java.lang.OutOfMemoryError: Java heap space" would otherwise go to stdout and a heap exhaustion
   * read as a bare exit code 3.
   */
  public static final List<String> DEFAULTS =
      List.of(
          "-XX:+UseSerialGC",
          "-XX:+ExitOnOutOfMemoryError",
          "-XX:+DisplayVMOutputToStderr",
          "-Xshare:auto",
          // Building a class data archive warns about every class it cannot take (generated
          // accessors, JFR events): expected, and no concern of the user's.
          "-Xlog:cds*=off",
          "-XX:ErrorFile="
              + System.getProperty("java.io.tmpdir")
              + File.separator
              + "flotilla-worker-hs_err_%p.log",
          "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
          "--add-opens=java.base/java.lang=ALL-UNNAMED",
          "--add-opens=java.base/java.util=ALL-UNNAMED");

  /** The worker JVM's entry point. */
  public static final String MAIN_CLASS = "io.flotilla.internal.worker.WorkerMain";

  private WorkerJvmFlags() {}
}
