package io.flotilla.cli.cluster;

import io.flotilla.testing.Requirements;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Hosts made of Linux network namespaces, for tests of what crosses a network: a bridge in this
 * namespace (itself the first host, at {@code .1}) and one namespace per further host, each joined
 * to the bridge by a veth pair, with an address of its own. Made by the test and removed by it;
 * needs root and iproute2.
 */
final class NetnsHosts implements AutoCloseable {
  private final String prefix;
  private final String subnet;
  private final List<String> namespaces = new ArrayList<>();

  /**
   * @param prefix a short name unique to this test run (interface names have at most 15 characters)
   * @param subnet the first three octets, such as {@code 10.231.7}
   */
  NetnsHosts(String prefix, String subnet) throws IOException {
    this.prefix = prefix;
    this.subnet = subnet;
    ip("link", "add", bridge(), "type", "bridge");
    ip("addr", "add", subnet + ".1/24", "dev", bridge());
    ip("link", "set", bridge(), "up");
    // Where bridged traffic passes the firewall (br_netfilter, as Docker leaves it, with FORWARD
    // dropped), hosts on the bridge could reach this one but not each other.
    forwarding =
        command("iptables", "-I", "FORWARD", "1", "-i", bridge(), "-o", bridge(), "-j", "ACCEPT");
  }

  /** Whether this test added a firewall rule, to be removed with the bridge. */
  private final boolean forwarding;

  /** What this machine offers for namespaces, found once per JVM. */
  private record Abilities(boolean root, boolean ip, boolean namespaces) {
    static final Abilities HERE = find();

    private static Abilities find() {
      boolean root = Requirements.root();
      boolean ip = Requirements.onPath("ip");
      String probe = "flprobe" + ProcessHandle.current().pid();
      boolean made = root && ip && Requirements.runs(List.of("ip", "netns", "add", probe));
      if (made) {
        Requirements.runs(List.of("ip", "netns", "delete", probe));
      }
      return new Abilities(root, ip, made);
    }
  }

  /**
   * @return whether this machine lets a test make namespaces: root, the ip command, and the
   *     privilege
   */
  static boolean usable() {
    return Abilities.HERE.namespaces();
  }

  /**
   * Skips the calling test (fails it under CI=true) unless {@link #usable}, saying what is missing.
   * Call it in {@code @BeforeEach}: a skip in {@code @BeforeAll} reaches surefire's report as no
   * test at all.
   */
  static void require() {
    Abilities here = Abilities.HERE;
    Requirements.require(here.root(), "root to make network namespaces", "run the tests as root");
    Requirements.require(
        here.ip(), "the ip command to make network namespaces", "apt-get install iproute2");
    Requirements.require(
        here.namespaces(),
        "the privilege to make a network namespace ('ip netns add' failed)",
        "run the tests as root on the host or in a privileged container");
  }

  private String bridge() {
    return prefix + "br";
  }

  /**
   * @return this namespace's address on the bridge
   */
  String hostAddress() {
    return subnet + ".1";
  }

  /**
   * Adds a host.
   *
   * @param n its number, 2 or more: its address ends in it
   * @return its namespace's name
   */
  String addHost(int n) throws IOException {
    String ns = prefix + "h" + n;
    String outside = veth(n);
    ip("netns", "add", ns);
    namespaces.add(ns);
    ip("link", "add", outside, "type", "veth", "peer", "name", "eth0", "netns", ns);
    ip("link", "set", outside, "master", bridge());
    ip("link", "set", outside, "up");
    ip("-n", ns, "addr", "add", address(n) + "/24", "dev", "eth0");
    ip("-n", ns, "link", "set", "eth0", "up");
    ip("-n", ns, "link", "set", "lo", "up");
    return ns;
  }

  String address(int n) {
    return subnet + "." + n;
  }

  private String veth(int n) {
    return prefix + "v" + n;
  }

  /** Cuts a host off: its cable is pulled, so its peers hear nothing, not even a reset. */
  void linkDown(int n) throws IOException {
    ip("link", "set", veth(n), "down");
  }

  /** Plugs a host's cable back in, after {@link #linkDown}. */
  void linkUp(int n) throws IOException {
    ip("link", "set", veth(n), "up");
  }

  /**
   * @param ns a namespace, or {@code null} for this one
   * @param command the command
   * @return the command, run in the namespace
   */
  static List<String> in(String ns, List<String> command) {
    if (ns == null) {
      return command;
    }
    List<String> wrapped = new ArrayList<>(List.of("ip", "netns", "exec", ns));
    wrapped.addAll(command);
    return wrapped;
  }

  @Override
  public void close() throws IOException {
    for (String ns : namespaces) {
      quietly("netns", "delete", ns);
    }
    for (int n = 2; n < 2 + namespaces.size(); n++) {
      quietly("link", "delete", veth(n));
    }
    quietly("link", "delete", bridge());
    if (forwarding) {
      command("iptables", "-D", "FORWARD", "-i", bridge(), "-o", bridge(), "-j", "ACCEPT");
    }
  }

  /**
   * @return whether the command ran and succeeded; a missing command is no failure here
   */
  private static boolean command(String... args) {
    try {
      Process p = new ProcessBuilder(args).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  private static void quietly(String... args) {
    try {
      ip(args);
    } catch (IOException gone) {
      // already removed with its namespace
    }
  }

  private static void ip(String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of("ip"));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IOException(String.join(" ", command) + " failed: " + output.trim());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted: " + command, e);
    }
  }
}
