package io.flotilla.workloads;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Generated text files for the word-count workload: deterministic (seeded), so every run and every
 * executor counts the same words.
 */
public final class TextCorpus implements AutoCloseable {
  private final Path dir;
  private final List<String> files = new ArrayList<>();

  /**
   * Writes the files.
   *
   * @param count how many files
   * @param linesPerFile lines in each
   * @throws UncheckedIOException if the temporary directory cannot be written
   */
  public TextCorpus(int count, int linesPerFile) {
    try {
      dir = Files.createTempDirectory("flotilla-words");
      String[] vocabulary = vocabulary(new Random(7), 3000);
      for (int f = 0; f < count; f++) {
        Random random = new Random(1000 + f);
        StringBuilder text = new StringBuilder(linesPerFile * 64);
        for (int line = 0; line < linesPerFile; line++) {
          int words = 6 + random.nextInt(8);
          for (int w = 0; w < words; w++) {
            // Squaring skews the choice towards the start of the vocabulary, as in real text.
            double u = random.nextDouble();
            text.append(vocabulary[(int) (u * u * vocabulary.length)])
                .append(w + 1 < words ? ' ' : '\n');
          }
        }
        Path file = dir.resolve("text-" + f + ".txt");
        Files.writeString(file, text, StandardCharsets.UTF_8);
        files.add(file.toString());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the word-count corpus", e);
    }
  }

  private static String[] vocabulary(Random random, int size) {
    String[] words = new String[size];
    for (int i = 0; i < size; i++) {
      int length = 2 + random.nextInt(9);
      StringBuilder w = new StringBuilder(length);
      for (int c = 0; c < length; c++) {
        w.append((char) ('a' + random.nextInt(26)));
      }
      words[i] = w.toString();
    }
    return words;
  }

  /**
   * @return the files' paths
   */
  public List<String> files() {
    return files;
  }

  @Override
  public void close() {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // a leftover temporary file is not worth failing a run for
    }
  }
}
