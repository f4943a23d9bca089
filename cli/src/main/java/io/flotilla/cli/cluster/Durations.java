package io.flotilla.cli.cluster;

/** Durations as people write them on command lines. */
public final class Durations {
  private Durations() {}

  /**
   * @param text a duration as {@code 500ms}, {@code 30s}, {@code 15m}, {@code 2h}, {@code 1d}, or
   *     ISO-8601
   * @return it
   * @throws IllegalArgumentException naming the text, if it is none of those
   */
  public static java.time.Duration parse(String text) {
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("(\\d+)(ms|s|m|h|d)").matcher(text.trim());
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      return switch (m.group(2)) {
        case "ms" -> java.time.Duration.ofMillis(n);
        case "s" -> java.time.Duration.ofSeconds(n);
        case "m" -> java.time.Duration.ofMinutes(n);
        case "h" -> java.time.Duration.ofHours(n);
        default -> java.time.Duration.ofDays(n);
      };
    }
    try {
      return java.time.Duration.parse(text.trim());
    } catch (java.time.format.DateTimeParseException e) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a duration: write it as 500ms, 30s, 15m, 2h or 1d");
    }
  }
}
