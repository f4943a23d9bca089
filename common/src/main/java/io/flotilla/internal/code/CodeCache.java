package io.flotilla.internal.code;

import io.flotilla.internal.codec.Codec;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A worker's store of shipped code: jars named by their SHA-256, fetched once from the coordinator
 * and kept on disk across runs, and one class loader (with its codec) per set of jars a job names.
 *
 * <p>Jobs naming the same jars share a loader while any of them runs: the same bytes define the
 * same classes, and a loader of its own per job would load and compile them again for every {@code
 * map}. Jobs naming different jars, such as two versions of one library, get different loaders and
 * never see each other's classes. A job's loader looks in its own jars first (see {@link
 * JobClassLoader}), then in the worker's class path, which is where Flotilla's runtime and anything
 * installed with the worker come from; a shipped jar identical to one on the worker's class path is
 * not fetched at all.
 *
 * <p>Thread-safe: run threads ask for codecs concurrently; a fetch happens once per jar.
 */
public final class CodeCache {
  /** Where a worker gets jars it lacks. */
  public interface Source {
    /**
     * Streams a bundle's bytes.
     *
     * @param sha256 the bundle
     * @param sink receives the bytes
     * @throws IOException if the bundle cannot be had
     */
    void fetch(String sha256, OutputStream sink) throws IOException;
  }

  private final Path dir;
  private final Source source;
  private final ClassLoader parent;
  private final Codec parentCodec;
  private final Map<String, Loaded> loaded = new java.util.HashMap<>();
  private final Map<String, Object> fetchLocks = new ConcurrentHashMap<>();
  private volatile Set<String> onClassPath;

  /**
   * @param dir where jars are kept; created if missing
   * @param source where missing jars come from
   * @param parent the worker's own class loader
   * @param parentCodec the codec of the worker's own classes
   */
  public CodeCache(Path dir, Source source, ClassLoader parent, Codec parentCodec) {
    this.dir = dir;
    this.source = source;
    this.parent = parent;
    this.parentCodec = parentCodec;
  }

  /**
   * Takes the codec of a job's code, fetching the jars first if need be. Every acquire is matched
   * by a {@link #release} once the job is over: a set of jars no job uses any more has its class
   * loader closed and dropped, so that a long-lived worker serving many builds of a client keeps
   * only the ones in use (the jars stay cached on disk).
   *
   * @param bundles the jars a job's classes come from
   * @return a codec resolving classes from them (before the worker's own)
   * @throws UncheckedIOException if a jar cannot be fetched or fails its digest
   */
  public Codec acquire(List<String> bundles) {
    String key = key(bundles);
    if (key.isEmpty()) {
      return parentCodec;
    }
    synchronized (loaded) {
      Loaded l = loaded.get(key);
      if (l != null) {
        l.users++;
        return l.codec;
      }
    }
    List<URL> urls = new ArrayList<>();
    for (String sha : key.split(",")) {
      try {
        urls.add(local(sha).toUri().toURL());
      } catch (IOException e) {
        throw new UncheckedIOException(
            "cannot fetch code bundle " + sha + " from the coordinator: " + e.getMessage(), e);
      }
    }
    synchronized (loaded) {
      Loaded l =
          loaded.computeIfAbsent(
              key,
              k ->
                  new Loaded(
                      new JobClassLoader(
                          "flotilla-job-" + k.substring(0, 12), urls.toArray(URL[]::new), parent)));
      l.users++;
      return l.codec;
    }
  }

  /**
   * @param bundles what a finished job named when it {@linkplain #acquire acquired} its codec
   */
  public void release(List<String> bundles) {
    String key = key(bundles);
    if (key.isEmpty()) {
      return;
    }
    JobClassLoader unused = null;
    synchronized (loaded) {
      Loaded l = loaded.get(key);
      if (l != null && --l.users == 0) {
        loaded.remove(key);
        unused = l.loader;
      }
    }
    if (unused != null) {
      try {
        unused.close();
      } catch (IOException ignored) {
        // its jars stay open until the loader is collected: nothing worse
      }
    }
  }

  /**
   * @return the jars a job needs beyond the worker's own class path, as a key; empty if none
   */
  private String key(List<String> bundles) {
    List<String> shipped = new ArrayList<>();
    Set<String> own = ownJars();
    for (String sha : bundles) {
      if (!Bundle.isName(sha)) {
        throw new IllegalArgumentException("not a bundle name: " + sha);
      }
      if (!own.contains(sha)) {
        shipped.add(sha);
      }
    }
    return String.join(",", shipped);
  }

  /** A class loader over some jars, its codec, and how many jobs use them. */
  private static final class Loaded {
    final JobClassLoader loader;
    final Codec codec;
    int users; // guarded by the map

    Loaded(JobClassLoader loader) {
      this.loader = loader;
      this.codec = new Codec(loader);
    }
  }

  /**
   * @return the jar on disk, fetched first if it is not there
   */
  private Path local(String sha) throws IOException {
    Path jar = dir.resolve(sha + ".jar");
    synchronized (fetchLocks.computeIfAbsent(sha, s -> new Object())) {
      if (Files.isRegularFile(jar)) {
        return jar;
      }
      Files.createDirectories(dir);
      Path partial = Files.createTempFile(dir, sha, ".part");
      try {
        MessageDigest digest = Bundle.newDigest();
        try (OutputStream out =
            new java.security.DigestOutputStream(Files.newOutputStream(partial), digest)) {
          source.fetch(sha, out);
        }
        String got = HexFormat.of().formatHex(digest.digest());
        if (!got.equals(sha)) {
          throw new IOException("bundle " + sha + " arrived with digest " + got);
        }
        Files.move(
            partial, jar, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } finally {
        Files.deleteIfExists(partial);
      }
      return jar;
    }
  }

  /** The digests of this JVM's own class path entries, computed on first need. */
  private Set<String> ownJars() {
    Set<String> own = onClassPath;
    if (own == null) {
      own = new HashSet<>();
      try {
        for (Bundle b : Bundle.ofClassPath(System.getProperty("java.class.path", ""))) {
          own.add(b.sha256());
        }
      } catch (UncheckedIOException unreadable) {
        // then none is vouched for, and shipped copies are used: slower, never wrong
      }
      onClassPath = own;
    }
    return own;
  }
}
