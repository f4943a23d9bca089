package io.flotilla.workloads;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * The seed articles' workloads, as plain static functions: the same code runs in a serial loop, on
 * a thread pool and in worker JVMs (as method references), which is the point of the demo and the
 * benchmark. Worker JVMs need this class on their class path; it depends on nothing but the JDK.
 */
public final class Workloads {
  private Workloads() {}

  /**
   * The seed's {@code hash_one(n)}: PBKDF2-HMAC-SHA256 of "password" with "salt" at 10,000, 20,000,
   * ... (n-1)·10,000 iterations. Cost grows quadratically with {@code n}.
   *
   * @param n the item
   * @return the hex digest of the last key derived, or "" for n below 2
   */
  public static String hashOne(int n) {
    try {
      SecretKeyFactory pbkdf2 = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256");
      byte[] last = new byte[0];
      for (int i = 1; i < n; i++) {
        PBEKeySpec spec =
            new PBEKeySpec(
                "password".toCharArray(), "salt".getBytes(StandardCharsets.UTF_8), i * 10_000, 256);
        last = pbkdf2.generateSecret(spec).getEncoded();
      }
      return HexFormat.of().formatHex(last);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("PBKDF2WithHmacSHA256 is not available", e);
    }
  }

  /**
   * The seed's {@code is_prime}: trial division by odd numbers up to the square root.
   *
   * @param n the number
   * @return whether it is prime
   */
  public static boolean isPrime(int n) {
    if (n < 2) {
      return false;
    }
    if (n == 2) {
      return true;
    }
    if (n % 2 == 0) {
      return false;
    }
    int limit = (int) Math.floor(Math.sqrt(n));
    for (int i = 3; i <= limit; i += 2) {
      if (n % i == 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * Counts the words of one text file (split on whitespace, lower-cased).
   *
   * @param file the file's path
   * @return occurrences per word
   */
  public static Map<String, Integer> countWords(String file) {
    try {
      return countWordsOfText(Files.readString(Path.of(file)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Counts the words of a text.
   *
   * @param text the text
   * @return occurrences per word
   */
  public static Map<String, Integer> countWordsOfText(String text) {
    Map<String, Integer> counts = new HashMap<>();
    int start = -1;
    for (int i = 0; i <= text.length(); i++) {
      boolean space = i == text.length() || Character.isWhitespace(text.charAt(i));
      if (space) {
        if (start >= 0) {
          counts.merge(
              text.substring(start, i).toLowerCase(java.util.Locale.ROOT), 1, Integer::sum);
          start = -1;
        }
      } else if (start < 0) {
        start = i;
      }
    }
    return counts;
  }

  /**
   * Fetches a URL and returns the size of its body: the seeds' download loop.
   *
   * @param url the address
   * @return bytes received
   */
  public static int download(String url) {
    try (InputStream in = new URL(url).openStream()) {
      return in.readAllBytes().length;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot fetch " + url, e);
    }
  }
}
