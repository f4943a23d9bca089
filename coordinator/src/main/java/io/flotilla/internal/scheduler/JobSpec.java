package io.flotilla.internal.scheduler;

import com.google.protobuf.ByteString;
import io.flotilla.internal.map.ChunkBackend;
import java.util.List;

/**
 * A job as the scheduler knows it: an id and what a worker needs to run it, sent to each worker
 * once, before its first chunk of the job. Job 0 is a local pool's call job: workers know it
 * without being told, and its items are callables.
 *
 * @param id the job id, unique within the scheduler
 * @param function the encoded function, or {@code null} when the items are callables
 * @param bundles the code bundles the job's classes come from; empty for the worker's own class
 *     path
 */
record JobSpec(long id, ByteString function, List<String> bundles) implements ChunkBackend.JobRef {
  static final JobSpec CALL = new JobSpec(0, null, List.of());

  /**
   * @return whether each item is an argument of the job's function (a map), not a callable
   */
  boolean maps() {
    return function != null;
  }
}
