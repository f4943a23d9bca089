package io.flotilla.scheduler;

import com.google.protobuf.ByteString;
import io.flotilla.map.ChunkBackend;

/**
 * A job as the scheduler knows it: an id and the encoded function, sent to each worker once, before its
 * first chunk of the job. Job 0 carries no function: its items are callables.
 *
 * @param id the job id, unique within the pool
 * @param function the encoded function, or {@code null} for the call job
 */
record JobSpec(long id, ByteString function) implements ChunkBackend.JobRef {
  static final JobSpec CALL = new JobSpec(0, null);
}
