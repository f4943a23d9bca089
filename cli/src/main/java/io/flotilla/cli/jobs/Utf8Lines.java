package io.flotilla.cli.jobs;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.StandardCharsets;

/**
 * Lines of text read strictly as UTF-8, one at a time: a line that is not UTF-8 is refused with its
 * line number and the offending byte, and only after every line before it has been read. (A JDK
 * reader decodes ahead in blocks, and may refuse a block before handing out the good lines at its
 * start.) A line ends at {@code \n}; a {@code \r} before it is dropped. Not thread-safe.
 */
final class Utf8Lines implements Closeable {
  private final BufferedInputStream in;
  private final ByteArrayOutputStream line = new ByteArrayOutputStream();
  private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder();
  private long lineNo;

  Utf8Lines(InputStream in) {
    this.in = new BufferedInputStream(in, 64 * 1024);
  }

  /**
   * @return the next line, or null at the end of the input
   * @throws CharacterCodingException if the line is not UTF-8; its message names the line and the
   *     byte
   * @throws IOException if the input cannot be read
   */
  String readLine() throws IOException {
    line.reset();
    int b;
    while ((b = in.read()) != -1 && b != '\n') {
      line.write(b);
    }
    if (b == -1 && line.size() == 0) {
      return null;
    }
    lineNo++;
    byte[] bytes = line.toByteArray();
    int length =
        bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
    ByteBuffer source = ByteBuffer.wrap(bytes, 0, length);
    CharBuffer text = CharBuffer.allocate(length);
    decoder.reset();
    CoderResult result = decoder.decode(source, text, true);
    if (!result.isError()) {
      result = decoder.flush(text);
    }
    if (result.isError()) {
      int at = source.position();
      throw new CharacterCodingException() {
        private static final long serialVersionUID = 1L;

        @Override
        public String getMessage() {
          return String.format(
              "line %d is not UTF-8 text, as JSON lines must be: byte 0x%02X at offset %d",
              lineNo, bytes[at] & 0xff, at);
        }
      };
    }
    return text.flip().toString();
  }

  /**
   * @return whether a line can be read now without waiting for more input
   */
  boolean ready() throws IOException {
    return in.available() > 0;
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
