package io.flotilla.internal.code;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * One class path entry as code that travels: a jar, named by the SHA-256 of its bytes. A class
 * directory becomes a jar built the same way every time (entries sorted, timestamps fixed), so that
 * unchanged classes keep their name and are not shipped again.
 *
 * @param sha256 the hex digest of the jar's bytes
 * @param jar the jar on disk, or {@code null} when the bytes were built from a directory
 * @param bytes the jar's bytes when built from a directory, else {@code null}
 */
// The bytes are never changed once built, and a bundle is never compared by value.
@SuppressWarnings("ArrayRecordComponent")
public record Bundle(String sha256, Path jar, byte[] bytes) {
  /**
   * A fixed time for every entry of a jar built from a directory: its digest depends on content
   * only.
   */
  private static final FileTime EPOCH = FileTime.fromMillis(0);

  /**
   * @return the jar's bytes as a stream, to be closed
   */
  public InputStream open() throws IOException {
    return bytes != null ? new java.io.ByteArrayInputStream(bytes) : Files.newInputStream(jar);
  }

  /**
   * @return the jar's size in bytes
   */
  public long size() throws IOException {
    return bytes != null ? bytes.length : Files.size(jar);
  }

  /**
   * @param classPath a class path, entries separated by the platform's separator
   * @return a bundle per jar or directory on it that exists, in class path order
   * @throws UncheckedIOException if an entry cannot be read
   */
  public static List<Bundle> ofClassPath(String classPath) {
    List<Bundle> bundles = new ArrayList<>();
    for (String entry : classPath.split(java.io.File.pathSeparator)) {
      if (entry.isBlank()) {
        continue;
      }
      Path path = Path.of(entry);
      try {
        if (Files.isDirectory(path)) {
          byte[] jar = jarOf(path);
          bundles.add(new Bundle(sha256(jar), null, jar));
        } else if (Files.isRegularFile(path)) {
          bundles.add(new Bundle(jarDigest(path), path, null));
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read class path entry " + path, e);
      }
    }
    return bundles;
  }

  /** A jar's digest as of its size and modification time. */
  private record Stamp(long size, long modified, String sha256) {}

  /**
   * Digests of jars already read in this JVM: a program that connects more than once would
   * otherwise hash its whole class path (tens of megabytes) each time. A jar rewritten in place is
   * read again, unless it kept both its size and its modification time, which build tools comparing
   * timestamps would miss as well.
   */
  private static final java.util.Map<Path, Stamp> JAR_DIGESTS =
      new java.util.concurrent.ConcurrentHashMap<>();

  private static String jarDigest(Path jar) throws IOException {
    java.nio.file.attribute.BasicFileAttributes now =
        Files.readAttributes(jar, java.nio.file.attribute.BasicFileAttributes.class);
    Stamp known = JAR_DIGESTS.get(jar);
    if (known != null
        && known.size() == now.size()
        && known.modified() == now.lastModifiedTime().toMillis()) {
      return known.sha256();
    }
    String sha = sha256(jar);
    JAR_DIGESTS.put(jar, new Stamp(now.size(), now.lastModifiedTime().toMillis(), sha));
    return sha;
  }

  /**
   * @return the hex SHA-256 of a file's bytes
   */
  public static String sha256(Path file) throws IOException {
    MessageDigest digest = newDigest();
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buffer = new byte[1 << 16];
      for (int n; (n = in.read(buffer)) > 0; ) {
        digest.update(buffer, 0, n);
      }
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  /**
   * @return the hex SHA-256 of some bytes
   */
  public static String sha256(byte[] bytes) {
    return HexFormat.of().formatHex(newDigest().digest(bytes));
  }

  /**
   * @return a new SHA-256 digest
   */
  public static MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no SHA-256", e);
    }
  }

  /**
   * @return whether a string can name a bundle: 64 lower-case hex digits, so never a path
   */
  public static boolean isName(String sha256) {
    return sha256.length() == 64
        && sha256.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  }

  private static byte[] jarOf(Path dir) throws IOException {
    List<Path> files;
    try (Stream<Path> walk = Files.walk(dir)) {
      files = walk.filter(Files::isRegularFile).sorted().toList();
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(out)) {
      for (Path file : files) {
        ZipEntry entry =
            new ZipEntry(dir.relativize(file).toString().replace(java.io.File.separatorChar, '/'));
        entry.setLastModifiedTime(EPOCH);
        zip.putNextEntry(entry);
        Files.copy(file, zip);
        zip.closeEntry();
      }
    }
    return out.toByteArray();
  }
}
