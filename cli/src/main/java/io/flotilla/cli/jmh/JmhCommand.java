package io.flotilla.cli.jmh;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/**
 * {@code flotilla jmh [JMH options]}: runs the JMH microbenchmarks of the {@code
 * flotilla-microbench} module (the codec, the scheduler's dispatch, map's reordering, result
 * delivery) with JMH's own command line, for example {@code flotilla jmh Dispatch -prof gc}, {@code
 * flotilla jmh -l} or {@code flotilla jmh -h}.
 *
 * <p>JMH finds the benchmarks through the {@code META-INF/BenchmarkList} in the microbench jar, and
 * forks each benchmark's JVM with this JVM's class path and flags, which is why the microbench jar
 * only has to be on the command's class path.
 *
 * <p>JMH's own exit rules apply: status 0 once the benchmarks have run, 1 (from JMH, which exits
 * the JVM itself) on bad options, a pattern that matches nothing, or, with {@code -foe true}, a
 * benchmark that fails; without it, a failing benchmark prints its exception and leaves no row in
 * the table.
 */
@Command(
    name = "jmh",
    description = {
      "Runs the JMH microbenchmarks of the hot paths, in forked JVMs.",
      "Codec, scheduler dispatch, map reordering and result delivery; every argument goes to JMH (-h for "
          + "its options, -l for the list). The whole suite takes about three minutes on 2 cores."
    })
public final class JmhCommand implements Callable<Integer> {
  /** Taken whole: the options are JMH's, not this command's. */
  @Unmatched List<String> jmhArgs = new ArrayList<>();

  @Override
  public Integer call() throws IOException {
    org.openjdk.jmh.Main.main(jmhArgs.toArray(new String[0]));
    return 0;
  }
}
