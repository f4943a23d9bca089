package io.flotilla.bench;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;

/**
 * The table printed at the end of a run that is not {@code --json}: one line per row, with a ratio.
 *
 * <p>The ratio of a {@code thread} or {@code process} row is its speed-up over the {@code serial}
 * row of the same workload. The ratio of a Python row says how many times better Flotilla's {@code
 * process} row of the same workload is than it (above 1: Flotilla better), on the workload's own
 * measure: the median latency where there is one, otherwise the rate of items, otherwise the
 * resident memory, otherwise the time. A row that carries its own ratio ({@code vs_off}, the rate
 * of a pool with a dashboard over the same workload's rate without one) shows that instead.
 */
final class Report {
  /** A row's own ratio, shown in the ratio column rather than among the notes. */
  static final String OWN_RATIO = "vs_off";

  private static final String FORMAT = "%-16s %-23s %7s %9s %9s %9s %9s %9s %7s %9s  %s%n";

  private Report() {}

  static void print(PrintStream out, List<Row> rows) {
    out.printf(
        Locale.ROOT,
        FORMAT,
        "workload",
        "executor",
        "workers",
        "items",
        "seconds",
        "items/s",
        "p50 µs",
        "p99 µs",
        "rss MB",
        "ratio",
        "notes");
    for (Row r : rows) {
      out.printf(
          Locale.ROOT,
          FORMAT,
          r.workload(),
          r.executor(),
          integer(r.number(Row.WORKERS)),
          integer(r.number(Row.ITEMS)),
          seconds(r.number(Row.SECONDS)),
          rate(r.number(Row.ITEMS_PER_S)),
          micros(r.number(Row.P50_US)),
          micros(r.number(Row.P99_US)),
          r.number(Row.RSS_MB) == null
              ? ""
              : String.format(Locale.ROOT, "%.1f", r.number(Row.RSS_MB)),
          ratio(r, rows),
          notes(r));
    }
    out.println();
    out.println(
        "ratio: thread/process rows: speed-up over the serial row; python rows: how many times better");
    out.println(
        "Flotilla's process row is (p50 latency, else items/s, else RSS, else seconds; >1: Flotilla better);");
    out.println(
        "metrics-* rows: rate over the process row, the pool without a dashboard (vs_off: median of same-round ratios).");
    out.println(
        "Medians of timed runs after untimed warm-ups, on pools started beforehand (startup: fresh callers).");
  }

  /**
   * @return the ratio column's text for this row; empty when there is nothing to compare with
   */
  static String ratio(Row r, List<Row> rows) {
    Double own = r.number(OWN_RATIO);
    if (own != null) {
      return String.format(Locale.ROOT, "%.2fx", own);
    }
    String executor = r.executor();
    if (executor.startsWith("python-")) {
      Row flotilla = find(rows, r.workload(), "process");
      Double better = flotilla == null ? null : timesBetter(flotilla, r);
      return better == null ? "" : String.format(Locale.ROOT, "%.2fx", better);
    }
    if (executor.equals("serial")) {
      return "1.00x";
    }
    Row serial = find(rows, r.workload(), "serial");
    if (serial == null || serial.number(Row.SECONDS) == null || r.number(Row.SECONDS) == null) {
      return "";
    }
    return String.format(Locale.ROOT, "%.2fx", serial.number(Row.SECONDS) / r.number(Row.SECONDS));
  }

  /**
   * How many times better {@code flotilla} is than {@code python}, on the first measure both have.
   */
  private static Double timesBetter(Row flotilla, Row python) {
    if (both(flotilla, python, Row.P50_US)) {
      return python.number(Row.P50_US) / flotilla.number(Row.P50_US);
    }
    if (both(flotilla, python, Row.ITEMS_PER_S)) {
      return flotilla.number(Row.ITEMS_PER_S) / python.number(Row.ITEMS_PER_S);
    }
    if (both(flotilla, python, Row.RSS_MB)) {
      return python.number(Row.RSS_MB) / flotilla.number(Row.RSS_MB);
    }
    if (both(flotilla, python, Row.SECONDS)) {
      return python.number(Row.SECONDS) / flotilla.number(Row.SECONDS);
    }
    return null;
  }

  private static boolean both(Row a, Row b, String key) {
    Double x = a.number(key);
    Double y = b.number(key);
    return x != null && y != null && x > 0 && y > 0;
  }

  private static Row find(List<Row> rows, String workload, String executor) {
    for (Row r : rows) {
      if (r.workload().equals(workload) && r.executor().equals(executor)) {
        return r;
      }
    }
    return null;
  }

  private static String notes(Row r) {
    StringJoiner notes = new StringJoiner(" ");
    for (Map.Entry<String, Object> e : r.extras().entrySet()) {
      if (e.getKey().equals(OWN_RATIO)) {
        continue;
      }
      Object v = e.getValue();
      String text =
          v instanceof Double d ? String.format(Locale.ROOT, "%.1f", d) : String.valueOf(v);
      notes.add(e.getKey() + "=" + text);
    }
    return notes.toString();
  }

  private static String integer(Double v) {
    return v == null ? "" : String.format(Locale.ROOT, "%d", v.longValue());
  }

  private static String seconds(Double v) {
    if (v == null) {
      return "";
    }
    return String.format(Locale.ROOT, v >= 100 ? "%.1f" : v >= 1 ? "%.2f" : "%.4f", v);
  }

  private static String rate(Double v) {
    if (v == null) {
      return "";
    }
    if (v >= 1e6) {
      return String.format(Locale.ROOT, "%.2fM", v / 1e6);
    }
    if (v >= 1e4) {
      return String.format(Locale.ROOT, "%.1fk", v / 1e3);
    }
    return String.format(Locale.ROOT, v >= 100 ? "%.0f" : "%.2f", v);
  }

  private static String micros(Double v) {
    return v == null ? "" : String.format(Locale.ROOT, v >= 100 ? "%.0f" : "%.1f", v);
  }
}
