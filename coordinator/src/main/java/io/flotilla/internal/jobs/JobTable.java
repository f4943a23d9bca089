package io.flotilla.internal.jobs;

import io.grpc.Status;
import io.grpc.StatusException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every job the service holds, by id, and each client's idempotency keys. A client sees only its
 * own jobs: another client's id is answered as unknown, so ids leak nothing. Ids are random, not
 * counted, for the same reason. Finished jobs are dropped once their retention has passed ({@link
 * #sweep}).
 *
 * <p>Thread-safe: guarded by {@code this}; jobs are created under the lock so that two submissions
 * with one key cannot both create a job.
 */
final class JobTable {
  private static final Logger log = LoggerFactory.getLogger(JobTable.class);

  private final SecureRandom random = new SecureRandom();
  private final Map<String, ServiceJob> byId = new HashMap<>();
  private final Map<String, ServiceJob> byKey = new HashMap<>(); // owner + '\n' + key
  private final int maxJobsPerClient;
  private final long maxKeptBytes;

  JobTable(JobLimits limits) {
    this.maxJobsPerClient = limits.maxJobsPerClient();
    this.maxKeptBytes = limits.maxKeptBytesPerClient();
  }

  /** A job made, or found again by its key. */
  record Created(ServiceJob job, boolean existing) {}

  /**
   * @param owner the client
   * @param key its idempotency key, or empty
   * @param make makes the job, given a fresh id
   * @return the new job, or the one made earlier with the same key
   * @throws StatusException RESOURCE_EXHAUSTED if the client has its limit of running jobs, or
   *     keeps its limit of results
   */
  synchronized Created create(String owner, String key, Function<String, ServiceJob> make)
      throws StatusException {
    if (!key.isEmpty()) {
      ServiceJob earlier = byKey.get(owner + '\n' + key);
      if (earlier != null) {
        return new Created(earlier, true);
      }
    }
    long running =
        byId.values().stream().filter(j -> j.owner.equals(owner) && !j.finished()).count();
    if (running >= maxJobsPerClient) {
      throw Status.RESOURCE_EXHAUSTED
          .withDescription(
              "client '"
                  + owner
                  + "' already has "
                  + running
                  + " running jobs, the most it may have"
                  + " (--max-jobs-per-client); wait for one to finish, or cancel one")
          .asException();
    }
    long kept =
        byId.values().stream()
            .filter(j -> j.owner.equals(owner))
            .mapToLong(ServiceJob::keptBytes)
            .sum();
    if (kept >= maxKeptBytes) {
      throw Status.RESOURCE_EXHAUSTED
          .withDescription(
              "client '"
                  + owner
                  + "' keeps "
                  + kept
                  + " bytes of results, the most it may ("
                  + maxKeptBytes
                  + ", --max-kept-bytes); they go when their jobs expire after the retention time")
          .asException();
    }
    String id;
    do {
      byte[] bytes = new byte[8];
      random.nextBytes(bytes);
      id = "j-" + HexFormat.of().formatHex(bytes);
    } while (byId.containsKey(id));
    ServiceJob job = make.apply(id);
    byId.put(id, job);
    if (!key.isEmpty()) {
      byKey.put(owner + '\n' + key, job);
    }
    return new Created(job, false);
  }

  /**
   * @return the client's job made with that idempotency key, or null (also for an empty key)
   */
  synchronized ServiceJob byKey(String owner, String key) {
    return key.isEmpty() ? null : byKey.get(owner + '\n' + key);
  }

  /**
   * @return the client's job of that id
   * @throws StatusException NOT_FOUND if there is none, whether it never was, expired, or is
   *     another's
   */
  synchronized ServiceJob get(String owner, String id) throws StatusException {
    ServiceJob job = byId.get(id);
    if (job == null || !job.owner.equals(owner)) {
      throw Status.NOT_FOUND
          .withDescription(
              id.isEmpty()
                  ? "no job id given"
                  : "no job "
                      + id
                      + " for this client: it never existed, belongs to another token, or expired"
                      + " after its retention time")
          .asException();
    }
    return job;
  }

  /**
   * @return the client's jobs, oldest first
   */
  /**
   * @return how many jobs are in each state now (those kept for their results included)
   */
  java.util.Map<io.flotilla.proto.JobState, Integer> countByState() {
    List<ServiceJob> all;
    synchronized (this) {
      all = new java.util.ArrayList<>(byId.values());
    }
    // Each job's state is read under its own lock, never under the table's.
    java.util.Map<io.flotilla.proto.JobState, Integer> counts =
        new java.util.EnumMap<>(io.flotilla.proto.JobState.class);
    for (ServiceJob job : all) {
      counts.merge(job.state(), 1, Integer::sum);
    }
    return counts;
  }

  synchronized List<ServiceJob> of(String owner) {
    List<ServiceJob> jobs = new ArrayList<>();
    for (ServiceJob j : byId.values()) {
      if (j.owner.equals(owner)) {
        jobs.add(j);
      }
    }
    jobs.sort((a, b) -> Long.compare(a.createdMs, b.createdMs));
    return jobs;
  }

  /** Closes the inputs of jobs nobody resumed, and forgets jobs whose retention has passed. */
  void sweep() {
    long now = System.currentTimeMillis();
    List<ServiceJob> all;
    synchronized (this) {
      all = new ArrayList<>(byId.values());
    }
    for (ServiceJob job : all) {
      if (job.closeIfAbandoned(now)) {
        log.info(
            "job {} of '{}': no input stream resumed it in time; its inputs are closed",
            job.id,
            job.owner);
      }
      if (job.expired(now)) {
        synchronized (this) {
          byId.remove(job.id);
          if (!job.idempotencyKey.isEmpty()) {
            byKey.remove(job.owner + '\n' + job.idempotencyKey);
          }
        }
        log.info("job {} of '{}' expired; its results are forgotten", job.id, job.owner);
      }
    }
  }
}
