package io.flotilla;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/**
 * The test JVM's class path as a packaged application would have it: every directory (compiled
 * classes) replaced by a jar of its contents, so that workers can share a class data archive, which
 * JDK 17 builds only from jar files.
 */
final class JarredClassPath {
  private JarredClassPath() {}

  /**
   * @param into where the jars are written
   * @return the class path, for {@link ProcessPool.Builder#classPath}
   */
  static String of(Path into) throws IOException {
    Files.createDirectories(into);
    List<String> entries = new ArrayList<>();
    int n = 0;
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      Path path = Path.of(entry);
      if (Files.isDirectory(path)) {
        Path jar = into.resolve("dir" + n++ + ".jar");
        pack(path, jar);
        entries.add(jar.toString());
      } else if (Files.isRegularFile(path)) {
        entries.add(entry);
      }
    }
    return String.join(File.pathSeparator, entries);
  }

  private static void pack(Path dir, Path jar) throws IOException {
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar));
        Stream<Path> files = Files.walk(dir)) {
      for (Path file : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
        out.putNextEntry(
            new JarEntry(dir.relativize(file).toString().replace(File.separatorChar, '/')));
        try (var in = Files.newInputStream(file)) {
          in.transferTo(out);
        }
        out.closeEntry();
      }
    }
  }
}
