package io.flotilla.internal.local;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An AppCDS archive of the classes a worker JVM loads, built by the first worker that runs without
 * one and used by every later worker with the same JDK and class path: it roughly halves a worker's
 * start (gRPC, Netty, Protobuf and Kryo are thousands of classes) and shares their metadata between
 * workers.
 *
 * <p>Archives live in the directory named by the system property {@code flotilla.cds.dir}, else in
 * {@code $XDG_CACHE_HOME/flotilla/cds}, else in {@code ~/.cache/flotilla/cds}, one per key: a
 * digest of the JDK and of every class path entry's path, size and modification time. A rebuilt jar
 * therefore gets a new archive instead of silently invalidating the old one, which the JVM would
 * otherwise ignore without a word; archives not rebuilt for a week are deleted whenever a new one
 * is written. Thread-safe.
 *
 * <p>Implementation notes: the archive is a dynamic one ({@code -XX:ArchiveClassesAtExit}), written
 * by the JVM as it exits. The dumping worker writes to a file of its own, and only a clean exit
 * (code 0) moves it into place, atomically, so a killed worker leaves no half archive behind and
 * concurrent pools at worst both build one. JDK 17 archives only jar files from the class path, so
 * a class path holding directories (classes compiled by an IDE or a test run) gets no archive.
 */
final class ClassDataArchive {
  /**
   * Looked up on first use, not when the class loads: the first lookup configures the logging
   * backend (a third of a second for Logback reading its XML), and a pool launches its workers
   * first.
   */
  private static final class Log {
    static final Logger LOG = LoggerFactory.getLogger(ClassDataArchive.class);
  }

  /** System property naming the directory for archives instead of the user's cache directory. */
  static final String CACHE_DIR_PROPERTY = "flotilla.cds.dir";

  private static final long STALE_ARCHIVE_MILLIS = java.util.concurrent.TimeUnit.DAYS.toMillis(7);

  /**
   * A dump takes seconds; a piece this old belongs to a worker that was killed while writing it.
   */
  private static final long STALE_PART_MILLIS = java.util.concurrent.TimeUnit.HOURS.toMillis(1);

  /**
   * Most archives kept, the newest ones: a developer rebuilding all day would otherwise fill a
   * disk.
   */
  static final int KEPT_ARCHIVES = 8;

  private final Path archive;
  private final AtomicBoolean dumping = new AtomicBoolean();

  private ClassDataArchive(Path archive) {
    this.archive = archive;
  }

  /**
   * @param javaExecutable the workers' java
   * @param classPath the workers' class path
   * @param jvmArgs the user's JVM flags
   * @return the archive for this JDK and class path, or {@code null} when it cannot be used: a
   *     directory on the class path, class data sharing configured by the user, or no writable
   *     cache directory
   */
  static ClassDataArchive forWorkers(
      String javaExecutable, String classPath, List<String> jvmArgs) {
    for (String arg : jvmArgs) {
      if (arg.startsWith("-Xshare")
          || arg.contains("SharedArchiveFile")
          || arg.contains("ArchiveClassesAtExit")) {
        return null;
      }
    }
    StringBuilder key =
        new StringBuilder(javaExecutable).append('\n').append(Runtime.version()).append('\n');
    for (String entry : classPath.split(File.pathSeparator)) {
      File file = new File(entry);
      if (!file.isFile() || !entry.endsWith(".jar")) {
        return null;
      }
      key.append(file.getAbsolutePath())
          .append(' ')
          .append(file.length())
          .append(' ')
          .append(file.lastModified());
      key.append('\n');
    }
    Path dir = cacheDirectory();
    try {
      Files.createDirectories(dir);
    } catch (IOException | SecurityException e) {
      Log.LOG.debug("no class data archive for workers: cannot create {}: {}", dir, e.toString());
      return null;
    }
    if (!Files.isWritable(dir)) {
      return null;
    }
    return new ClassDataArchive(dir.resolve("worker-" + digest(key.toString()) + ".jsa"));
  }

  private static Path cacheDirectory() {
    String configured = System.getProperty(CACHE_DIR_PROPERTY);
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured);
    }
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base =
        xdg != null && !xdg.isBlank()
            ? Path.of(xdg)
            : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("flotilla").resolve("cds");
  }

  private static String digest(String text) {
    try {
      byte[] hash =
          MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(hash, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The flags for the next worker: use the archive if it exists; else, for one worker at a time,
   * build it at exit.
   *
   * @return the flags and, if this worker builds the archive, the file it writes
   */
  Flags nextLaunch() {
    if (Files.isRegularFile(archive)) {
      return new Flags(List.of("-XX:SharedArchiveFile=" + archive), null);
    }
    if (!dumping.compareAndSet(false, true)) {
      return new Flags(List.of(), null);
    }
    Path partial =
        archive.resolveSibling(
            archive.getFileName() + "." + ProcessHandle.current().pid() + ".part");
    return new Flags(List.of("-XX:ArchiveClassesAtExit=" + partial), partial);
  }

  /**
   * A worker launched with {@link #nextLaunch()}'s flags has exited.
   *
   * @param flags what it was launched with
   * @param exitCode its exit code
   */
  void exited(Flags flags, int exitCode) {
    if (flags.partial() == null) {
      return;
    }
    try {
      if (exitCode == 0 && Files.isRegularFile(flags.partial())) {
        Files.move(
            flags.partial(),
            archive,
            StandardCopyOption.ATOMIC_MOVE,
            StandardCopyOption.REPLACE_EXISTING);
        Log.LOG.debug("class data archive for workers written to {}", archive);
        pruneStale();
        return;
      }
      Files.deleteIfExists(flags.partial());
    } catch (IOException e) {
      Log.LOG.debug("cannot keep class data archive {}: {}", archive, e.toString());
    } finally {
      // The next worker may try again, if this one did not leave an archive.
      dumping.set(false);
    }
  }

  /**
   * Deletes archives of class paths not archived anew for a week, archives beyond the newest {@link
   * #KEPT_ARCHIVES}, and pieces left by dumping workers that were killed: every rebuilt jar gets a
   * new key, and without this the directory would grow by an archive (about 16 MiB) per build (it
   * reached a gigabyte in two days of this project's own development). An archive still in use is
   * rebuilt at worst once after it is deleted, and a worker already mapping a deleted one keeps it.
   */
  private void pruneStale() {
    long now = System.currentTimeMillis();
    try (java.util.stream.Stream<Path> files = Files.list(archive.getParent())) {
      List<Path> kept = new java.util.ArrayList<>();
      for (Path file : (Iterable<Path>) files::iterator) {
        String name = file.getFileName().toString();
        if (!name.startsWith("worker-") || file.equals(archive)) {
          continue;
        }
        long age = now - Files.getLastModifiedTime(file).toMillis();
        boolean stale =
            name.endsWith(".part")
                ? age > STALE_PART_MILLIS
                : name.endsWith(".jsa") && age > STALE_ARCHIVE_MILLIS;
        if (stale) {
          Files.deleteIfExists(file);
        } else if (name.endsWith(".jsa")) {
          kept.add(file);
        }
      }
      // The archive just written is one of the newest; the others compete for the remaining places.
      kept.sort(java.util.Comparator.comparing(ClassDataArchive::modified).reversed());
      for (Path old : kept.subList(Math.min(kept.size(), KEPT_ARCHIVES - 1), kept.size())) {
        Files.deleteIfExists(old);
      }
    } catch (IOException | UncheckedIOException e) {
      Log.LOG.debug(
          "cannot prune class data archives in {}: {}", archive.getParent(), e.toString());
    }
  }

  private static java.nio.file.attribute.FileTime modified(Path file) {
    try {
      return Files.getLastModifiedTime(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * @param jvmFlags what to add to the worker's command line
   * @param partial the file a dumping worker writes, or {@code null}
   */
  record Flags(List<String> jvmFlags, Path partial) {}
}
