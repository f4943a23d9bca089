package io.flotilla;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.functions.FunctionLibrary;
import io.flotilla.functions.Registered;

/**
 * Functions the job service's tests call by name, on worker JVMs that carry the test class path.
 */
public final class TestFunctions implements FunctionLibrary {
  @Registered(value = "echo", description = "Returns its input.")
  public static JsonNode echo(JsonNode value) {
    return value;
  }

  @Registered(value = "square", description = "n * n.")
  public static long square(long n) {
    return n * n;
  }

  @Registered(value = "blob", description = "A string of that many characters.")
  public static String blob(int length) {
    return "x".repeat(length);
  }

  @Registered(
      value = "nap",
      description = "Sleeps that many milliseconds (the work of a slow item), returns it.")
  public static int nap(int millis) throws InterruptedException {
    Thread.sleep(millis);
    return millis;
  }

  @Registered(value = "letters", description = "The length of a text, as a Protobuf function.")
  public static io.flotilla.demo.proto.WordCount letters(io.flotilla.demo.proto.Text text) {
    return io.flotilla.demo.proto.WordCount.newBuilder()
        .setWord(text.getText())
        .setCount(text.getText().length())
        .build();
  }

  @Registered(value = "fail", description = "Throws IllegalStateException with the message given.")
  public static String fail(String message) {
    throw new IllegalStateException(message);
  }
}
