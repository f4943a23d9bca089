package io.flotilla.cli.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The manifests under {@code deploy/} open the coordinator's dashboard port consistently: the flag,
 * the container and Service ports, Prometheus' annotations and ServiceMonitor, the network policy
 * and the Compose file all name the same port, and a coordinator listening beyond loopback there
 * has its secret (without one it refuses to start). Read as text: no YAML library, and no cluster,
 * needed.
 */
class DeployManifestsTest {
  private static final String PORT =
      CoordinatorCommand.DEFAULT_DASHBOARD.substring(
          CoordinatorCommand.DEFAULT_DASHBOARD.lastIndexOf(':') + 1);

  private static String read(String path) throws Exception {
    // Tests run in the module's directory; deploy/ is beside it.
    return Files.readString(Path.of("..", "deploy").resolve(path));
  }

  @Test
  void theKubernetesCoordinatorServesTheDashboardOnItsPodAndService() throws Exception {
    String coordinator = read("k8s/coordinator.yaml");
    assertThat(coordinator)
        .contains("- --dashboard=0.0.0.0:" + PORT)
        .contains("- --secret-file=/etc/flotilla/secret")
        .containsPattern("- name: dashboard\\s+containerPort: " + PORT)
        .containsPattern("- name: dashboard\\s+port: " + PORT + "\\s+targetPort: dashboard")
        .contains("prometheus.io/scrape: \"true\"")
        .contains("prometheus.io/port: \"" + PORT + "\"")
        .contains("prometheus.io/path: /metrics");
    assertThat(read("k8s/network-policy.yaml")).contains("- port: " + PORT);
  }

  @Test
  void theServiceMonitorScrapesTheDashboardPortWithTheSecretAsBearerToken() throws Exception {
    String monitor = read("k8s/service-monitor.yaml");
    assertThat(monitor)
        .contains("kind: ServiceMonitor")
        .contains("- port: dashboard")
        .contains("path: /metrics")
        .containsPattern("type: Bearer\\s+credentials:\\s+name: flotilla-secret\\s+key: secret");
    // It needs the Prometheus Operator's kind: applying the kustomization must not depend on it.
    assertThat(read("k8s/kustomization.yaml")).doesNotContain("service-monitor.yaml");
  }

  @Test
  void composePublishesTheDashboardOnTheHostsLoopback() throws Exception {
    assertThat(read("compose/compose.yaml"))
        .contains("--dashboard, 0.0.0.0:" + PORT + "]")
        .contains("\"${FLOTILLA_DASHBOARD_PUBLISH:-127.0.0.1:" + PORT + "}:" + PORT + "\"")
        .contains("env_file: flotilla.env");
  }
}
