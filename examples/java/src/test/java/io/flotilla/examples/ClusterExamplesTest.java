package io.flotilla.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The examples that need a cluster, each run against the same real coordinator and worker. */
class ClusterExamplesTest {
  @TempDir static Path dir;
  private static ExampleCluster cluster;

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = new ExampleCluster(dir);
  }

  @AfterAll
  static void stopCluster() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void connectToClusterRunsTheMapOnTheWorker() throws Exception {
    ExampleProgram.Output out =
        ExampleProgram.run(dir, Map.of(), ConnectToCluster.class, cluster.address());
    assertThat(out.lines())
        .as("%s%n%s", out.text(), cluster.logs())
        .contains(
            "connected to " + cluster.address() + "; workers: 1, threads: 2",
            "cluster: 1229 primes below 10000")
        .anyMatch(l -> l.matches("ran on: \\[\\S+ pid [1-9]\\d*\\]"));
  }

  @Test
  void jobFromJavaGetsEveryResultInInputOrder() throws Exception {
    ExampleProgram.Output out =
        ExampleProgram.run(
            dir,
            Map.of("FLOTILLA_TOKEN", ExampleCluster.TOKEN),
            JobFromJava.class,
            cluster.address());
    assertThat(out.lines())
        .as("%s%n%s", out.text(), cluster.logs())
        .contains("offered: isprime(json integer) -> json boolean")
        .anyMatch(l -> l.matches("job j-\\S+"))
        .containsSubsequence(
            "2 prime: true",
            "15 prime: false",
            "17 prime: true",
            "91 prime: false",
            "97 prime: true");
  }
}
