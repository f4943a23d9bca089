package io.flotilla.cli.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.StreamSupport;

/**
 * What {@code flotilla top} shows: one snapshot of the dashboard's {@code GET /api/fleet} as lines
 * of plain text, no terminal control codes. Pure: the same snapshot, width and height give the same
 * lines, whatever the clock, so a test needs no coordinator. Times are shown relative to the
 * snapshot's own {@code now_ms}, the server's clock, so that a skew between the two machines does
 * not show.
 *
 * <pre>
 *   coordinator 127.0.0.1:7600 | workers 2 | threads 3/4 busy | 1235 items/s | queue 10 | ...
 *
 *   WORKERS: 2 up, 1 lost
 *   HOST     PID  THREADS BUSY  DONE LOSSES  HEAP       RSS   CPU  HEARD    STATE
 *   ...
 *   JOBS: 1 running, 1 ended
 *   ID  CLIENT  FUNCTION  PROGRESS              ITEMS/S  ETA  FAILED  STATE
 *   17  local   Demo::f   [####......]  40%       950.0   6s       0  running
 *   ...
 *   FAILURES: the newest 2 of 2
 *   0.5s ago  job 17 on node-a  Demo::f: java.lang.ArithmeticException: / by zero
 * </pre>
 *
 * <p>Every line fits in the width given: a table narrows its widest text column (host, function,
 * client) first, marking a cut value with {@code ~}, and any line still too wide is cut. Given a
 * height, the tables show fewer rows, ending in "... N more".
 */
final class FleetView {
  /** The failures shown: the newest few, one line each; the page and the API keep more. */
  static final int FAILURES_SHOWN = 5;

  /** Columns between two table columns. */
  private static final String GAP = "  ";

  /** Cells of the progress bar: 10 makes each {@code #} a tenth. */
  private static final int BAR = 10;

  private FleetView() {}

  /**
   * @param fleet a snapshot of {@code /api/fleet} (API version 1)
   * @param width the terminal's columns; no line is longer
   * @param height the terminal's rows, or 0 or less for as many lines as the snapshot needs
   * @return the lines, without line ends
   */
  static List<String> render(JsonNode fleet, int width, int height) {
    long now = fleet.path("now_ms").asLong();
    List<JsonNode> workers = list(fleet.path("workers"));
    List<JsonNode> jobs = list(fleet.path("jobs"));
    List<JsonNode> failures = new ArrayList<>(list(fleet.path("failures")));
    failures.sort(Comparator.comparingLong((JsonNode f) -> f.path("time_ms").asLong()).reversed());

    List<List<String>> workerRows = new ArrayList<>();
    for (JsonNode w : workers) {
      workerRows.add(workerRow(w, now));
    }
    List<List<String>> jobRows = new ArrayList<>();
    for (JsonNode j : jobs) {
      jobRows.add(jobRow(j));
    }
    List<String> failureLines = new ArrayList<>();
    for (JsonNode f : failures.subList(0, Math.min(FAILURES_SHOWN, failures.size()))) {
      failureLines.add(failureLine(f, now));
    }

    // Lines that are not table rows: the header, 3 blank lines, 3 section titles, 2 column heads.
    int fixed = 9;
    int workersShown = workerRows.size();
    int jobsShown = jobRows.size();
    int failuresShown = failureLines.size();
    if (height > 0 && fixed + workersShown + jobsShown + failuresShown > height) {
      int room = Math.max(3, height - fixed);
      // The jobs matter most to whoever watches, then the workers, then the failures' details.
      failuresShown = Math.min(failuresShown, Math.max(1, room / 6));
      int rest = room - failuresShown;
      jobsShown = Math.min(jobsShown, Math.max(1, rest / 2));
      workersShown = Math.min(workersShown, Math.max(1, rest - jobsShown));
      jobsShown = Math.min(jobRows.size(), Math.max(jobsShown, rest - workersShown));
    }

    List<String> out = new ArrayList<>();
    out.add(header(fleet));
    out.add("");
    long lost = workers.stream().filter(w -> w.path("state").asText().equals("lost")).count();
    out.add(
        "WORKERS: "
            + (workers.size() - lost)
            + " up"
            + (lost > 0 ? ", " + lost + " lost" : "")
            + (workers.isEmpty() ? " (workers join with: flotilla worker --join HOST:PORT)" : ""));
    out.addAll(WORKERS.render(cut(workerRows, workersShown), width));
    out.add("");
    long running = jobs.stream().filter(j -> j.path("state").asText().equals("running")).count();
    out.add("JOBS: " + running + " running, " + (jobs.size() - running) + " ended");
    out.addAll(JOBS.render(cut(jobRows, jobsShown), width));
    out.add("");
    if (failures.isEmpty()) {
      out.add("FAILURES: none");
    } else {
      out.add("FAILURES: the newest " + failuresShown + " of " + failures.size());
      out.addAll(failureLines.subList(0, failuresShown));
    }
    return out.stream().map(l -> fit(l, width)).toList();
  }

  // ---------------------------------------------------------------------------------------------
  // The header

  /**
   * @return e.g. {@code coordinator 127.0.0.1:7600 | workers 2 | threads 3/4 busy | 1235 items/s |
   *     queue 10 | done 12345 | failed 2 | clients 1}: the clients last, the first cut when the
   *     line is too wide
   */
  static String header(JsonNode fleet) {
    String source = fleet.path("source").asText("");
    String name = fleet.path("name").asText("");
    String title = name.startsWith(source) ? name : (source + " " + name).strip();
    JsonNode o = fleet.path("overview");
    return String.join(
        " | ",
        title,
        "workers " + o.path("workers").asLong(),
        "threads " + o.path("busy").asLong() + "/" + o.path("threads").asLong() + " busy",
        rate(o.path("items_per_s")) + " items/s",
        "queue " + o.path("queue_chunks").asLong(),
        "done " + o.path("items_completed").asLong(),
        "failed " + o.path("items_failed").asLong(),
        "clients " + o.path("clients").asLong());
  }

  // ---------------------------------------------------------------------------------------------
  // The workers

  private static final Table WORKERS =
      new Table(
          new Column("HOST", false, true),
          new Column("PID", true, false),
          new Column("THREADS", true, false),
          new Column("BUSY", true, false),
          new Column("DONE", true, false),
          new Column("LOSSES", true, false),
          new Column("HEAP", true, false),
          new Column("RSS", true, false),
          new Column("CPU", true, false),
          new Column("HEARD", true, false),
          new Column("STATE", false, false));

  private static List<String> workerRow(JsonNode w, long now) {
    String state = w.path("state").asText("?");
    if (w.hasNonNull("cause")) {
      state += " (" + w.path("cause").asText() + ")";
    }
    String heap =
        w.hasNonNull("heap_used_bytes")
            ? bytes(w.path("heap_used_bytes"))
                + (w.hasNonNull("heap_max_bytes") ? "/" + bytes(w.path("heap_max_bytes")) : "")
            : "-";
    return List.of(
        w.path("host").asText("-"),
        number(w.path("pid")),
        number(w.path("threads")),
        number(w.path("busy")),
        number(w.path("items_done")),
        number(w.path("losses")),
        heap,
        bytes(w.path("rss_bytes")),
        w.hasNonNull("cpu") ? String.format(Locale.ROOT, "%.2f", w.path("cpu").asDouble()) : "-",
        ago(w.path("last_heard_ms"), now),
        state);
  }

  // ---------------------------------------------------------------------------------------------
  // The jobs

  private static final Table JOBS =
      new Table(
          new Column("ID", false, false),
          new Column("CLIENT", false, true),
          new Column("FUNCTION", false, true),
          new Column("PROGRESS", false, false),
          new Column("ITEMS/S", true, false),
          new Column("ETA", true, false),
          new Column("FAILED", true, false),
          new Column("STATE", false, false));

  private static List<String> jobRow(JsonNode j) {
    boolean running = j.path("state").asText().equals("running");
    return List.of(
        j.path("id").asText("-"),
        j.path("client").asText("-"),
        j.path("function").asText("-"),
        progress(j),
        running ? rate(j.path("items_per_s")) : "-",
        running ? eta(j.path("eta_s")) : "-",
        number(j.path("items_failed")),
        j.path("state").asText("?"));
  }

  /**
   * @return {@code [####......] 40%} for a job of known size, counting failed items as finished;
   *     {@code 4000 done} for an open-ended one
   */
  static String progress(JsonNode job) {
    long done = job.path("items_done").asLong() + job.path("items_failed").asLong();
    if (!job.hasNonNull("items_total")) {
      return done + " done";
    }
    long total = job.path("items_total").asLong();
    double fraction = total <= 0 ? 1.0 : Math.min(1.0, (double) done / total);
    int filled = (int) Math.floor(fraction * BAR);
    return "["
        + "#".repeat(filled)
        + ".".repeat(BAR - filled)
        + "] "
        + String.format(Locale.ROOT, "%3d%%", (int) Math.floor(fraction * 100));
  }

  // ---------------------------------------------------------------------------------------------
  // The failures

  /**
   * @return e.g. {@code 1s ago job 17 on node-a Demo::f: java.lang.ArithmeticException: / by zero}
   */
  private static String failureLine(JsonNode f, long now) {
    String error = f.path("error").asText("").replaceAll("\\s*\\R\\s*", " ");
    return String.format(Locale.ROOT, "%8s", ago(f.path("time_ms"), now))
        + GAP
        + "job "
        + f.path("job").asText("-")
        + (f.hasNonNull("host") ? " on " + f.path("host").asText() : "")
        + GAP
        + f.path("function").asText("-")
        + ": "
        + error;
  }

  // ---------------------------------------------------------------------------------------------
  // Values

  private static List<JsonNode> list(JsonNode array) {
    return StreamSupport.stream(array.spliterator(), false).toList();
  }

  private static String number(JsonNode n) {
    return n.isNumber() ? Long.toString(n.asLong()) : "-";
  }

  /**
   * @return items per second: one decimal below 100, none from there
   */
  static String rate(JsonNode perSecond) {
    if (!perSecond.isNumber()) {
      return "-";
    }
    double r = perSecond.asDouble();
    return String.format(Locale.ROOT, r < 100 ? "%.1f" : "%.0f", r);
  }

  /**
   * @return binary units, as top does: {@code 512B}, {@code 29.6M}, {@code 256M}, {@code 1.5G}
   */
  static String bytes(JsonNode n) {
    if (!n.isNumber()) {
      return "-";
    }
    double v = n.asDouble();
    String[] units = {"B", "K", "M", "G", "T"};
    int u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(Locale.ROOT, u > 0 && v < 10 ? "%.1f%s" : "%.0f%s", v, units[u]);
  }

  /**
   * @return {@code 6s}, {@code 2m05s}, {@code 1h02m}; {@code -} when unknown
   */
  static String eta(JsonNode seconds) {
    if (!seconds.isNumber()) {
      return "-";
    }
    long s = Math.round(Math.max(0, seconds.asDouble()));
    if (s < 60) {
      return s + "s";
    }
    if (s < 3600) {
      return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
    return String.format(Locale.ROOT, "%dh%02dm", s / 3600, s % 3600 / 60);
  }

  /**
   * @return how long before {@code now} the time was: {@code 0.2s ago}, {@code 12s ago}, {@code 3m
   *     ago}, {@code 2h ago}
   */
  static String ago(JsonNode timeMs, long now) {
    if (!timeMs.isNumber()) {
      return "-";
    }
    long ms = Math.max(0, now - timeMs.asLong());
    if (ms < 10_000) {
      return String.format(Locale.ROOT, "%.1fs ago", ms / 1000.0);
    }
    long s = ms / 1000;
    if (s < 120) {
      return s + "s ago";
    }
    return s < 7200 ? s / 60 + "m ago" : s / 3600 + "h ago";
  }

  /** The first {@code shown} rows; when that leaves some out, the last one says how many. */
  private static List<List<String>> cut(List<List<String>> rows, int shown) {
    if (shown >= rows.size()) {
      return rows;
    }
    List<List<String>> out = new ArrayList<>(rows.subList(0, Math.max(0, shown - 1)));
    out.add(List.of("... " + (rows.size() - out.size()) + " more"));
    return out;
  }

  /**
   * @return the text, cut to the width, its last kept character a {@code ~} if it was cut
   */
  static String fit(String text, int width) {
    if (text.length() <= width) {
      return text;
    }
    return width <= 1 ? text.substring(0, Math.max(0, width)) : text.substring(0, width - 1) + "~";
  }

  // ---------------------------------------------------------------------------------------------
  // Tables

  /**
   * @param title the column's heading
   * @param right whether it is aligned right (numbers)
   * @param flexible whether its values may be cut to fit the width
   */
  private record Column(String title, boolean right, boolean flexible) {}

  /** Columns, each as wide as its widest value; a row of one cell is a note across all. */
  private static final class Table {
    private final List<Column> columns;

    Table(Column... columns) {
      this.columns = List.of(columns);
    }

    /**
     * @return the heading and the rows, each column as wide as its widest value; when that is wider
     *     than the terminal, the flexible columns are narrowed, the widest first, down to their
     *     headings' width
     */
    List<String> render(List<List<String>> rows, int width) {
      int[] widths = new int[columns.size()];
      for (int c = 0; c < widths.length; c++) {
        widths[c] = columns.get(c).title().length();
        for (List<String> row : rows) {
          if (row.size() > 1) {
            widths[c] = Math.max(widths[c], row.get(c).length());
          }
        }
      }
      int total = GAP.length() * (widths.length - 1);
      for (int w : widths) {
        total += w;
      }
      while (total > width) {
        int widest = -1;
        for (int c = 0; c < widths.length; c++) {
          if (columns.get(c).flexible()
              && widths[c] > Math.max(columns.get(c).title().length(), 4)
              && (widest < 0 || widths[c] > widths[widest])) {
            widest = c;
          }
        }
        if (widest < 0) {
          break; // nothing left to narrow: the lines are cut at the edge instead
        }
        widths[widest]--;
        total--;
      }
      List<String> out = new ArrayList<>();
      out.add(line(titles(), widths));
      for (List<String> row : rows) {
        if (row.size() == 1) {
          out.add(row.get(0));
        } else {
          out.add(line(row, widths));
        }
      }
      return out;
    }

    private List<String> titles() {
      List<String> titles = new ArrayList<>();
      for (Column c : columns) {
        titles.add(c.title());
      }
      return titles;
    }

    private String line(List<String> cells, int[] widths) {
      StringBuilder b = new StringBuilder();
      for (int c = 0; c < widths.length; c++) {
        String cell = fit(cells.get(c), widths[c]);
        String pad = " ".repeat(widths[c] - cell.length());
        if (c > 0) {
          b.append(GAP);
        }
        b.append(columns.get(c).right() ? pad + cell : cell + pad);
      }
      return b.toString().stripTrailing();
    }
  }
}
