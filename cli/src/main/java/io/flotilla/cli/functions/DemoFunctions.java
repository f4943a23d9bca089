package io.flotilla.cli.functions;

import io.flotilla.demo.proto.Text;
import io.flotilla.demo.proto.WordCount;
import io.flotilla.demo.proto.WordCounts;
import io.flotilla.functions.FunctionLibrary;
import io.flotilla.functions.Registered;
import io.flotilla.workloads.Workloads;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The seeds' workloads as named functions, registered in every install of the flotilla command, so
 * that clients in any language can call them: one with JSON inputs and results, one with Protobuf
 * messages, one with raw bytes.
 */
public final class DemoFunctions implements FunctionLibrary {
  /** The seeds' largest pbkdf2 item is 20; beyond a few hundred one item would take hours. */
  private static final int MAX_PBKDF2_N = 200;

  @Registered(
      value = "isprime",
      description = "Whether n is prime, by trial division (the seeds' is_prime).")
  public static boolean isPrime(int n) {
    return Workloads.isPrime(n);
  }

  @Registered(
      value = "pbkdf2",
      description =
          "The seeds' hash_one(n): PBKDF2-HMAC-SHA256 at 10,000 to (n-1)*10,000 iterations, as hex.")
  public static String pbkdf2(int n) {
    if (n < 0 || n > MAX_PBKDF2_N) {
      throw new IllegalArgumentException("n must be between 0 and " + MAX_PBKDF2_N + ", not " + n);
    }
    return Workloads.hashOne(n);
  }

  @Registered(
      value = "wordcount",
      description = "Counts the words of a text; the most frequent first, the top N if asked.")
  public static WordCounts wordCount(Text text) {
    Map<String, Integer> counts = Workloads.countWordsOfText(text.getText());
    List<Map.Entry<String, Integer>> sorted = new ArrayList<>(counts.entrySet());
    sorted.sort(
        Map.Entry.<String, Integer>comparingByValue()
            .reversed()
            .thenComparing(Map.Entry.comparingByKey()));
    WordCounts.Builder out = WordCounts.newBuilder();
    int total = 0;
    for (Map.Entry<String, Integer> e : sorted) {
      total += e.getValue();
      if (text.getTop() <= 0 || out.getWordsCount() < text.getTop()) {
        out.addWords(WordCount.newBuilder().setWord(e.getKey()).setCount(e.getValue()));
      }
    }
    return out.setTotal(total).build();
  }

  @Registered(value = "sha256", description = "The SHA-256 digest of the bytes given.")
  public static byte[] sha256(byte[] data) throws NoSuchAlgorithmException {
    return MessageDigest.getInstance("SHA-256").digest(data);
  }
}
