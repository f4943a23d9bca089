package io.flotilla.cli.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** {@code flotilla coordinator --dashboard}: the addresses it takes, and the ones it refuses. */
class DashboardOptionTest {
  @Test
  void offServesNothing() {
    assertThat(CoordinatorCommand.dashboardAddress("off")).isNull();
    assertThat(CoordinatorCommand.dashboardAddress(" OFF ")).isNull();
  }

  @Test
  void theDefaultIsLoopbackOnItsOwnPort() {
    var address = CoordinatorCommand.dashboardAddress(CoordinatorCommand.DEFAULT_DASHBOARD);
    assertThat(address.getAddress().isLoopbackAddress()).isTrue();
    assertThat(address.getPort()).isEqualTo(8787);
  }

  @Test
  void hostsMayBeIpv6InBracketsAndPortZeroPicksAFreeOne() {
    var address = CoordinatorCommand.dashboardAddress("[::1]:0");
    assertThat(address.getAddress().isLoopbackAddress()).isTrue();
    assertThat(address.getPort()).isZero();
  }

  @Test
  void anythingElseIsAWrongSettingThatSaysWhatItTakes() {
    for (String wrong : new String[] {"8787", ":8787", "127.0.0.1:", "127.0.0.1:x", "h:70000"}) {
      assertThatThrownBy(() -> CoordinatorCommand.dashboardAddress(wrong))
          .as(wrong)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("--dashboard takes HOST:PORT");
    }
  }
}
