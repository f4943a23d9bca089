package io.flotilla;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The workers' AppCDS archive: written by the first worker as it exits cleanly, then mapped by the
 * workers of later pools. JDK 17 archives only jar files, so the test packs every directory of its
 * own class path into a jar first, as a packaged application's class path would be.
 */
@FlotillaTest
class ClassDataSharingTest {
  private static final String CACHE_DIR = "flotilla.cds.dir";

  @TempDir Path temp;

  @AfterEach
  void forgetCacheDir() {
    System.clearProperty(CACHE_DIR);
  }

  @Test
  void theFirstWorkerWritesAnArchiveThatLaterWorkersMap() throws Exception {
    String classPath = JarredClassPath.of(temp.resolve("jars"));
    Path cache = temp.resolve("cds");
    System.setProperty(CACHE_DIR, cache.toString());

    try (ProcessPool pool = Pools.process(ProcessPool.builder().workers(1).classPath(classPath))) {
      assertThat(pool.submit(() -> 6 * 7).get(60, TimeUnit.SECONDS)).isEqualTo(42);
    }
    assertOneArchiveThatTheNextWorkerMaps(cache, classPath);
  }

  @Test
  void aPoolClosedWhileItsWorkersBootStillLeavesAnArchive() throws Exception {
    String classPath = JarredClassPath.of(temp.resolve("jars"));
    Path cache = temp.resolve("cds");
    System.setProperty(CACHE_DIR, cache.toString());

    // Closed at once, as a short program's pool can be: no worker has attached yet.
    ProcessPool.builder().workers(2).classPath(classPath).build().close();

    assertOneArchiveThatTheNextWorkerMaps(cache, classPath);
  }

  /**
   * The cache holds exactly one archive, and a worker of a new pool on the same class path maps it.
   */
  private static void assertOneArchiveThatTheNextWorkerMaps(Path cache, String classPath)
      throws Exception {
    List<Path> archives;
    try (Stream<Path> files = Files.list(cache)) {
      archives = files.toList();
    }
    assertThat(archives).singleElement().satisfies(a -> assertThat(a.toString()).endsWith(".jsa"));
    try (ProcessPool pool = Pools.process(ProcessPool.builder().workers(1).classPath(classPath))) {
      long pid = pool.submit(() -> ProcessHandle.current().pid()).get(60, TimeUnit.SECONDS);
      assertThat(Files.readString(Path.of("/proc", Long.toString(pid), "maps")))
          .as("memory map of worker %d", pid)
          .contains(archives.get(0).toString());
    }
  }

  @Test
  void aClassPathWithADirectoryGetsNoArchive() throws Exception {
    Path cache = temp.resolve("cds");
    System.setProperty(CACHE_DIR, cache.toString());
    try (ProcessPool pool = Pools.process(ProcessPool.builder().workers(1))) {
      assertThat(pool.submit(() -> 1).get(60, TimeUnit.SECONDS)).isEqualTo(1);
    }
    assertThat(cache).doesNotExist();
  }

  @Test
  void writingAnArchiveKeepsOnlyTheNewestEight() throws Exception {
    String classPath = JarredClassPath.of(temp.resolve("jars"));
    Path cache = temp.resolve("cds");
    Files.createDirectories(cache);
    // Twelve archives of earlier builds, made an hour ago and older, newest first.
    long now = System.currentTimeMillis();
    for (int i = 0; i < 12; i++) {
      Path old = cache.resolve(String.format("worker-earlier%02d.jsa", i));
      Files.write(old, new byte[] {1});
      Files.setLastModifiedTime(
          old, java.nio.file.attribute.FileTime.fromMillis(now - 3_600_000L - i * 60_000L));
    }
    System.setProperty(CACHE_DIR, cache.toString());
    try (ProcessPool pool = Pools.process(ProcessPool.builder().workers(1).classPath(classPath))) {
      assertThat(pool.submit(() -> 1).get(60, TimeUnit.SECONDS)).isEqualTo(1);
    }
    List<String> left;
    try (Stream<Path> files = Files.list(cache)) {
      left = files.map(f -> f.getFileName().toString()).sorted().toList();
    }
    assertThat(left).hasSize(8);
    assertThat(left.stream().filter(n -> n.contains("earlier")))
        .containsExactly(
            "worker-earlier00.jsa",
            "worker-earlier01.jsa",
            "worker-earlier02.jsa",
            "worker-earlier03.jsa",
            "worker-earlier04.jsa",
            "worker-earlier05.jsa",
            "worker-earlier06.jsa");
    assertThat(left.stream().filter(n -> !n.contains("earlier")))
        .as("the new one")
        .singleElement()
        .satisfies(n -> assertThat(n).endsWith(".jsa"));
  }
}
