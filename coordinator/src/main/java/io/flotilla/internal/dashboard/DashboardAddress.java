package io.flotilla.internal.dashboard;

import java.net.InetSocketAddress;

/** Where a dashboard listens, as people write it: {@code HOST:PORT}, {@code [::1]:PORT}. */
public final class DashboardAddress {
  private DashboardAddress() {}

  /**
   * @param text {@code HOST:PORT}; port 0 picks a free one; an IPv6 host in brackets, as in a URL
   * @param usage what the option takes, for the error, e.g. {@code "--dashboard takes HOST:PORT"}
   * @return the address, its host resolved
   * @throws IllegalArgumentException naming {@code text} if it is not {@code HOST:PORT}, or its
   *     host cannot be resolved
   */
  public static InetSocketAddress parse(String text, String usage) {
    String t = text.trim();
    int colon = t.lastIndexOf(':');
    int port;
    try {
      port = colon < 0 ? -1 : Integer.parseInt(t.substring(colon + 1));
    } catch (NumberFormatException e) {
      port = -1;
    }
    if (colon <= 0 || port < 0 || port > 65535) {
      throw new IllegalArgumentException(usage + ", not '" + text + "'");
    }
    String host = t.substring(0, colon).replaceAll("^\\[(.*)]$", "$1");
    InetSocketAddress address = new InetSocketAddress(host, port);
    if (address.isUnresolved()) {
      throw new IllegalArgumentException(
          usage.substring(0, usage.indexOf(' ')) + ": cannot resolve '" + host + "'");
    }
    return address;
  }
}
