package io.flotilla.cli.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The job service's clients: a file of {@code NAME TOKEN} lines, {@code #} comments and blank
 * lines.
 */
final class TokensFile {
  private TokensFile() {}

  /**
   * @param file the file
   * @return each token's client name
   * @throws IOException if it cannot be read
   * @throws IllegalArgumentException naming the line, if one is malformed or repeats a token
   */
  static Map<String, String> read(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    Map<String, String> tokens = new HashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] parts = line.split("\\s+");
      String where = file + " line " + (i + 1);
      if (parts.length != 2) {
        throw new IllegalArgumentException(where + ": expected 'NAME TOKEN'");
      }
      if (parts[1].length() < 16) {
        throw new IllegalArgumentException(
            where + ": the token of '" + parts[0] + "' is shorter than 16 characters");
      }
      if (tokens.put(parts[1], parts[0]) != null) {
        throw new IllegalArgumentException(where + ": this token is already another client's");
      }
    }
    return tokens;
  }
}
