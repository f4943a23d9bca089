package io.flotilla.internal.dashboard;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flotilla.internal.scheduler.ChunkScheduler;
import io.flotilla.internal.scheduler.WorkerSample;

/** A worker row's details beyond the scheduler's bookkeeping: what the worker says of itself. */
final class WorkerDetails {
  private WorkerDetails() {}

  /**
   * @param row the worker's row
   * @param w the worker
   * @param nowMillis the wall clock now
   * @param nowNanos {@link System#nanoTime()} now, the clock the worker's times are on
   */
  static void fill(ObjectNode row, ChunkScheduler.WorkerView w, long nowMillis, long nowNanos) {
    text(row, "java", w.javaVersion());
    text(row, "version", w.flotillaVersion());
    WorkerSample s = w.sample();
    if (s == null) {
      row.putNull("heap_used_bytes");
      row.putNull("heap_max_bytes");
      row.putNull("rss_bytes");
      row.putNull("cpu");
      row.putNull("gc_seconds");
    } else {
      row.put("heap_used_bytes", s.heapUsedBytes());
      row.put("heap_max_bytes", s.heapMaxBytes());
      if (s.rssBytes() > 0) {
        row.put("rss_bytes", s.rssBytes());
      } else {
        row.putNull("rss_bytes");
      }
      if (Double.isNaN(s.coresUsed())) {
        row.putNull("cpu");
      } else {
        row.put("cpu", Math.round(s.coresUsed() * 100) / 100.0);
      }
      row.put("gc_seconds", Math.round(s.gcNanos() / 1e6) / 1000.0);
    }
    row.put("last_heard_ms", nowMillis - (nowNanos - w.lastHeardNanos()) / 1_000_000);
    row.put("since_ms", nowMillis - (nowNanos - w.sinceNanos()) / 1_000_000);
  }

  private static void text(ObjectNode row, String field, String value) {
    if (value == null || value.isEmpty()) {
      row.putNull(field);
    } else {
      row.put(field, value);
    }
  }
}
