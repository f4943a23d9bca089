package io.flotilla.internal.code;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.internal.codec.Codec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A worker's code cache, with a source in memory instead of a coordinator. */
class CodeCacheTest {
  @TempDir Path dir;

  /** A jar holding one resource, so that a loader over it can be seen to find it. */
  private byte[] jar(String resource, String content) throws IOException {
    Path file = dir.resolve("built-" + resource + ".jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(file))) {
      out.putNextEntry(new JarEntry(resource));
      out.write(content.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      out.closeEntry();
    }
    return Files.readAllBytes(file);
  }

  private final List<String> fetched = new ArrayList<>();

  private CodeCache cache(java.util.Map<String, byte[]> store) {
    Codec own = new Codec(getClass().getClassLoader());
    return new CodeCache(
        dir.resolve("cache"),
        (sha, sink) -> {
          fetched.add(sha);
          byte[] bytes = store.get(sha);
          if (bytes == null) {
            throw new IOException("NOT_FOUND: no bundle " + sha);
          }
          sink.write(bytes);
        },
        getClass().getClassLoader(),
        own);
  }

  @Test
  void aJarIsFetchedOnceSharedWhileInUseAndItsLoaderClosedWhenNoJobUsesIt() throws Exception {
    byte[] v1 = jar("greeting.txt", "v1");
    String sha = Bundle.sha256(v1);
    CodeCache cache = cache(java.util.Map.of(sha, v1));
    Codec first = cache.acquire(List.of(sha));
    Codec second = cache.acquire(List.of(sha));
    assertThat(second).isSameAs(first);
    assertThat(fetched).containsExactly(sha);
    assertThat(
            new String(
                first.loader().getResourceAsStream("greeting.txt").readAllBytes(),
                java.nio.charset.StandardCharsets.UTF_8))
        .isEqualTo("v1");
    cache.release(List.of(sha));
    assertThat(first.loader().getResource("greeting.txt"))
        .as("still in use by the second job")
        .isNotNull();
    cache.release(List.of(sha));
    assertThat(first.loader().getResource("greeting.txt"))
        .as("closed once no job uses it")
        .isNull();
    Codec again = cache.acquire(List.of(sha));
    assertThat(again).isNotSameAs(first);
    assertThat(fetched).as("kept on disk: not fetched again").containsExactly(sha);
  }

  @Test
  void twoVersionsOfOneResourceLiveSideBySide() throws Exception {
    byte[] v1 = jar("greeting.txt", "v1");
    byte[] v2 = jar("greeting.txt", "v2");
    CodeCache cache = cache(java.util.Map.of(Bundle.sha256(v1), v1, Bundle.sha256(v2), v2));
    Codec one = cache.acquire(List.of(Bundle.sha256(v1)));
    Codec two = cache.acquire(List.of(Bundle.sha256(v2)));
    assertThat(
            new String(
                one.loader().getResourceAsStream("greeting.txt").readAllBytes(),
                java.nio.charset.StandardCharsets.UTF_8))
        .isEqualTo("v1");
    assertThat(
            new String(
                two.loader().getResourceAsStream("greeting.txt").readAllBytes(),
                java.nio.charset.StandardCharsets.UTF_8))
        .isEqualTo("v2");
  }

  @Test
  void bytesThatDoNotMatchTheirNameAreRefusedAndNotKept() throws Exception {
    byte[] real = jar("greeting.txt", "v1");
    String sha = Bundle.sha256(real);
    CodeCache cache = cache(java.util.Map.of(sha, jar("greeting.txt", "tampered")));
    assertThatThrownBy(() -> cache.acquire(List.of(sha)))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining("cannot fetch code bundle " + sha)
        .hasMessageContaining("arrived with digest");
    try (var files = Files.list(dir.resolve("cache"))) {
      assertThat(files.toList()).as("nothing half-written or false left behind").isEmpty();
    }
  }

  @Test
  void aNameThatIsNotADigestIsRefusedBeforeAnythingIsFetched() {
    CodeCache cache = cache(java.util.Map.of());
    assertThatThrownBy(() -> cache.acquire(List.of("../../etc/passwd")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a bundle name");
    assertThat(fetched).isEmpty();
  }

  @Test
  void codeTheWorkerAlreadyHasOnItsClassPathIsNeitherFetchedNorLoadedAgain() {
    String own = Bundle.ofClassPath(System.getProperty("java.class.path")).get(0).sha256();
    CodeCache cache = cache(java.util.Map.of());
    Codec codec = cache.acquire(List.of(own));
    assertThat(codec.loader()).isSameAs(getClass().getClassLoader());
    assertThat(fetched).isEmpty();
  }
}
