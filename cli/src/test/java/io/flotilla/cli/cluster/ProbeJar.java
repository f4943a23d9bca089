package io.flotilla.cli.cluster;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * A jar compiled while the test runs, from source the test gives: code that exists only where the
 * test puts it, so that a worker can have it only if Flotilla ships it.
 */
final class ProbeJar {
  private ProbeJar() {}

  /**
   * @param dir a scratch directory of its own
   * @param className the class's binary name
   * @param source its source
   * @return the jar
   */
  static Path compile(Path dir, String className, String source) throws IOException {
    Path src = dir.resolve("src").resolve(className.replace('.', '/') + ".java");
    Path classes = dir.resolve("classes");
    Files.createDirectories(src.getParent());
    Files.createDirectories(classes);
    Files.writeString(src, source);
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    int status =
        javac.run(
            null,
            null,
            null,
            "-d",
            classes.toString(),
            "-cp",
            System.getProperty("java.class.path"),
            src.toString());
    if (status != 0) {
      throw new IOException("javac failed on " + src);
    }
    Path jar = dir.resolve(className.replace('.', '-') + ".jar");
    try (OutputStream file = Files.newOutputStream(jar);
        JarOutputStream out = new JarOutputStream(file);
        Stream<Path> walk = Files.walk(classes)) {
      for (Path c : (Iterable<Path>) walk.filter(Files::isRegularFile).sorted()::iterator) {
        out.putNextEntry(new JarEntry(classes.relativize(c).toString().replace('\\', '/')));
        Files.copy(c, out);
        out.closeEntry();
      }
    }
    return jar;
  }

  /**
   * @return a function that sleeps a little, then names its version, item and process
   */
  static String greeter(String version, int millis) {
    return String.join(
        "\n",
        List.of(
            "package probe;",
            "public class Greeter implements io.flotilla.SerializableFunction<Integer, String> {",
            "  public String apply(Integer i) {",
            "    try { Thread.sleep("
                + millis
                + "); } catch (InterruptedException e) { throw new RuntimeException(e); }",
            "    return \"" + version + ":\" + i + \":\" + ProcessHandle.current().pid();",
            "  }",
            "}"));
  }
}
