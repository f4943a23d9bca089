package io.flotilla.internal.dashboard;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flotilla.internal.scheduler.ChunkScheduler;

/** A worker row's details beyond the scheduler's bookkeeping: what the worker says of itself. */
final class WorkerDetails {
  private WorkerDetails() {}

  static void fill(ObjectNode row, ChunkScheduler.WorkerView w) {
    row.putNull("java");
    row.putNull("version");
    row.putNull("heap_used_bytes");
    row.putNull("heap_max_bytes");
    row.putNull("rss_bytes");
    row.putNull("cpu");
    row.putNull("gc_seconds");
    row.putNull("last_heard_ms");
    row.putNull("since_ms");
  }
}
