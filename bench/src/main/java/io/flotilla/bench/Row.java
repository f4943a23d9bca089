package io.flotilla.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One measurement: one workload on one executor, printed as one JSON line. The standard fields come
 * first, in this order, and only those that apply: {@code workload, executor, workers, items,
 * seconds, items_per_s, p50_us, p99_us, rss_mb}; a workload's own fields (such as {@code mb_per_s}
 * or {@code chunksize}) follow them.
 *
 * <p>Mutable while a benchmark fills it in, then only read. Not thread-safe.
 */
final class Row {
  static final String WORKLOAD = "workload";
  static final String EXECUTOR = "executor";
  static final String WORKERS = "workers";
  static final String ITEMS = "items";
  static final String SECONDS = "seconds";
  static final String ITEMS_PER_S = "items_per_s";
  static final String P50_US = "p50_us";
  static final String P99_US = "p99_us";
  static final String RSS_MB = "rss_mb";

  private static final List<String> STANDARD =
      List.of(WORKLOAD, EXECUTOR, WORKERS, ITEMS, SECONDS, ITEMS_PER_S, P50_US, P99_US, RSS_MB);

  private final Map<String, Object> fields = new LinkedHashMap<>();

  private Row() {}

  /**
   * @param workload the workload's name
   * @param executor {@code serial}, {@code thread}, {@code process}, {@code python-process} or
   *     {@code python-dask}; {@code process+metrics} and {@code process+metrics+watched} in {@code
   *     metrics}
   * @param workers threads or processes used
   * @return a row with those three fields
   */
  static Row of(String workload, String executor, int workers) {
    Row row = new Row();
    row.fields.put(WORKLOAD, Objects.requireNonNull(workload, "workload"));
    row.fields.put(EXECUTOR, Objects.requireNonNull(executor, "executor"));
    row.fields.put(WORKERS, (long) workers);
    return row;
  }

  /**
   * @param line a JSON line in this format, such as the Python side prints
   * @return the row
   * @throws IllegalArgumentException if the line is not JSON or lacks the workload or executor
   */
  static Row parse(String line) {
    Map<String, Object> parsed = Json.parse(line);
    if (!(parsed.get(WORKLOAD) instanceof String) || !(parsed.get(EXECUTOR) instanceof String)) {
      throw new IllegalArgumentException("not a result line (no workload or executor): " + line);
    }
    Row row = new Row();
    row.fields.putAll(parsed);
    return row;
  }

  /** Sets {@code items}. */
  Row items(long items) {
    fields.put(ITEMS, items);
    return this;
  }

  /** Sets {@code seconds}, and {@code items_per_s} when {@code items} is set. */
  Row seconds(double seconds) {
    fields.put(SECONDS, seconds);
    if (fields.get(ITEMS) instanceof Long items && seconds > 0) {
      fields.put(ITEMS_PER_S, items / seconds);
    }
    return this;
  }

  /** Sets {@code p50_us} and {@code p99_us}. */
  Row latency(double p50Micros, double p99Micros) {
    fields.put(P50_US, p50Micros);
    fields.put(P99_US, p99Micros);
    return this;
  }

  /** Sets {@code rss_mb}. */
  Row rssMb(double megabytes) {
    fields.put(RSS_MB, megabytes);
    return this;
  }

  /**
   * Adds a field of this workload's own.
   *
   * @param key its name, not a standard field's
   * @param value a String, Number or Boolean
   * @return this
   */
  Row put(String key, Object value) {
    if (STANDARD.contains(key)) {
      throw new IllegalArgumentException("'" + key + "' is a standard field; use its setter");
    }
    fields.put(key, value);
    return this;
  }

  String workload() {
    return (String) fields.get(WORKLOAD);
  }

  String executor() {
    return (String) fields.get(EXECUTOR);
  }

  /**
   * @return the field as a number, or {@code null} if the row does not have it
   */
  Double number(String key) {
    return fields.get(key) instanceof Number n ? n.doubleValue() : null;
  }

  /**
   * @return the workload's own fields, in the order they were added
   */
  Map<String, Object> extras() {
    Map<String, Object> extras = new LinkedHashMap<>(fields);
    extras.keySet().removeAll(STANDARD);
    return extras;
  }

  /**
   * @return the row as one JSON line: standard fields first, then the workload's own
   */
  String toJson() {
    Map<String, Object> ordered = new LinkedHashMap<>();
    for (String key : STANDARD) {
      if (fields.containsKey(key)) {
        ordered.put(key, fields.get(key));
      }
    }
    ordered.putAll(extras());
    return Json.write(ordered);
  }

  @Override
  public String toString() {
    return toJson();
  }
}
