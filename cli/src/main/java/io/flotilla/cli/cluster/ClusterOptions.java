package io.flotilla.cli.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.flotilla.internal.link.CoordinatorChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;
import picocli.CommandLine.Option;

/**
 * What {@code flotilla coordinator} and {@code flotilla worker} share, and where each setting comes
 * from: a flag beats the environment ({@code FLOTILLA_*}), which beats the config file ({@code
 * --config}, HOCON, keys under {@code flotilla.}; the file's {@code pekko.} settings go to the
 * cluster), which beats the default.
 */
final class ClusterOptions {
  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "A HOCON file: flotilla.* settings, and pekko.* for the cluster.")
  Path configFile;

  @Option(
      names = "--bind",
      paramLabel = "ADDR",
      description =
          "Address to listen on (env FLOTILLA_BIND; default: 127.0.0.1 for a coordinator, the address a worker reaches its coordinator from for a worker).")
  String bind;

  @Option(
      names = "--cluster-port",
      paramLabel = "PORT",
      description = "Cluster (Pekko) port (env FLOTILLA_CLUSTER_PORT).")
  Integer clusterPort;

  @Option(
      names = "--advertise",
      paramLabel = "HOST",
      description = "Address others reach this one by (env FLOTILLA_ADVERTISE).")
  String advertise;

  @Option(
      names = "--secret-file",
      paramLabel = "FILE",
      description =
          "File holding the cluster secret (env FLOTILLA_SECRET holds it, or FLOTILLA_SECRET_FILE names the file).")
  Path secretFile;

  @Option(
      names = "--tls-dir",
      paramLabel = "DIR",
      description =
          "Directory with tls.key, tls.crt and ca.crt (PEM): the cluster port then speaks TLS with mutual authentication (env FLOTILLA_TLS_DIR).")
  Path tlsDir;

  @Option(
      names = "--stable-after",
      paramLabel = "SECONDS",
      description =
          "How long an unreachable member stays unreachable before the cluster downs it (env FLOTILLA_STABLE_AFTER; default 7).")
  Integer stableAfter;

  private Config file;

  Config file() {
    if (file == null) {
      file =
          configFile == null
              ? ConfigFactory.empty()
              : ConfigFactory.parseFile(configFile.toFile()).resolve();
      if (configFile != null && !Files.isRegularFile(configFile)) {
        throw new IllegalArgumentException("no config file " + configFile);
      }
    }
    return file;
  }

  /**
   * @return the file's Pekko settings, for the cluster node
   */
  Config pekko() {
    Config f = file();
    return f.hasPath("pekko") ? f.withOnlyPath("pekko") : ConfigFactory.empty();
  }

  /**
   * @param flag the flag's value, or null
   * @param name the setting's name: env FLOTILLA_NAME, file key flotilla.name
   * @param parse turns text into a value
   * @param fallback the default
   * @return the setting
   */
  <T> T pick(T flag, String name, Function<String, T> parse, T fallback) {
    if (flag != null) {
      return flag;
    }
    String env =
        System.getenv("FLOTILLA_" + name.toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
    if (env != null && !env.isBlank()) {
      return parse.apply(env.trim());
    }
    String key = "flotilla." + name;
    if (file().hasPath(key)) {
      return parse.apply(file().getString(key));
    }
    return fallback;
  }

  /**
   * @return the address to listen on, or {@code fallback} when none is set
   */
  String bindHost(String fallback) {
    return pick(bind, "bind", s -> s, fallback);
  }

  String advertiseHost() {
    return pick(advertise, "advertise", s -> s, null);
  }

  int clusterPort(int fallback) {
    return pick(clusterPort, "cluster-port", Integer::parseInt, fallback);
  }

  java.time.Duration stableAfter() {
    return java.time.Duration.ofSeconds(pick(stableAfter, "stable-after", Integer::parseInt, 7));
  }

  Path tls() {
    return pick(tlsDir, "tls-dir", Path::of, null);
  }

  /**
   * @return the secret: from --secret-file, FLOTILLA_SECRET, FLOTILLA_SECRET_FILE, or the file's
   *     key
   */
  String secret() {
    if (secretFile != null) {
      return CoordinatorChannel.readSecret(secretFile);
    }
    String env = CoordinatorChannel.secretFromEnvironment();
    if (env != null) {
      return env;
    }
    Path file = pick(null, "secret-file", Path::of, null);
    return file != null ? CoordinatorChannel.readSecret(file) : pick(null, "secret", s -> s, "");
  }
}
