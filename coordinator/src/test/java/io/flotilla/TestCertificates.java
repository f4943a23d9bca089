package io.flotilla;

import io.flotilla.testing.Requirements;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A certificate authority and one certificate it signed, for 127.0.0.1, made with the {@code
 * openssl} command into a directory laid out as {@code --tls-dir} expects. Without OpenSSL 3 or
 * later (the Debian package {@code openssl}) the calling test is skipped, or fails under CI=true.
 */
final class TestCertificates {
  private TestCertificates() {}

  static Path make(Path dir) throws IOException, InterruptedException {
    requireOpenssl();
    Files.createDirectories(dir);
    run(
        dir,
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=flotilla test CA");
    run(
        dir,
        "openssl",
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "tls.key",
        "-out",
        "tls.csr",
        "-subj",
        "/CN=flotilla",
        "-addext",
        "subjectAltName=IP:127.0.0.1,DNS:localhost");
    run(
        dir,
        "openssl",
        "x509",
        "-req",
        "-in",
        "tls.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "tls.crt",
        "-days",
        "2",
        "-copy_extensions",
        "copy");
    return dir;
  }

  /** x509's -copy_extensions, which puts the address in the certificate, is OpenSSL 3's. */
  private static void requireOpenssl() {
    String version = Requirements.output(List.of("openssl", "version"));
    Matcher major = Pattern.compile("^OpenSSL (\\d+)\\.").matcher(version == null ? "" : version);
    String found = version == null ? "none found" : "found " + version.strip();
    Requirements.require(
        major.find() && Integer.parseInt(major.group(1)) >= 3,
        "the openssl command, OpenSSL 3 or later, to make test certificates (" + found + ")",
        "apt-get install openssl");
  }

  /**
   * A directory as {@code --tls-dir} expects, trusting one authority and holding a certificate
   * another signed: a member whose certificate the first does not trust, or one that does not trust
   * the first.
   *
   * @param dir the directory to make
   * @param trusted the directory whose {@code ca.crt} it trusts
   * @param own the directory whose {@code tls.crt} and {@code tls.key} it shows
   * @return dir
   */
  static Path mixed(Path dir, Path trusted, Path own) throws IOException {
    Files.createDirectories(dir);
    Files.copy(trusted.resolve("ca.crt"), dir.resolve("ca.crt"));
    Files.copy(own.resolve("tls.crt"), dir.resolve("tls.crt"));
    Files.copy(own.resolve("tls.key"), dir.resolve("tls.key"));
    return dir;
  }

  private static void run(Path dir, String... command) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(List.of(command))
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .start();
    String output =
        new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException(String.join(" ", command) + " failed: " + output);
    }
  }
}
