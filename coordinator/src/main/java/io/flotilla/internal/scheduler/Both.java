package io.flotilla.internal.scheduler;

import io.flotilla.internal.map.JobLabel;

/** Two watchers told the same events, in order: {@link SchedulerMetrics#both}. */
record Both(SchedulerMetrics first, SchedulerMetrics second) implements SchedulerMetrics {
  @Override
  public void jobOpened(long jobId, String client, JobLabel label) {
    first.jobOpened(jobId, client, label);
    second.jobOpened(jobId, client, label);
  }

  @Override
  public void jobClosed(long jobId) {
    first.jobClosed(jobId);
    second.jobClosed(jobId);
  }

  @Override
  public void chunkSent(Sent sent) {
    first.chunkSent(sent);
    second.chunkSent(sent);
  }

  @Override
  public void chunkLeft(Stay stay) {
    first.chunkLeft(stay);
    second.chunkLeft(stay);
  }

  @Override
  public void itemsAnswered(long jobId, int completed, int failed, long bytes) {
    first.itemsAnswered(jobId, completed, failed, bytes);
    second.itemsAnswered(jobId, completed, failed, bytes);
  }

  @Override
  public void itemErrors(
      long jobId,
      String worker,
      String host,
      java.util.List<io.flotilla.proto.ItemFailure> failures) {
    first.itemErrors(jobId, worker, host, failures);
    second.itemErrors(jobId, worker, host, failures);
  }

  @Override
  public void itemsFailed(long jobId, long items) {
    first.itemsFailed(jobId, items);
    second.itemsFailed(jobId, items);
  }

  @Override
  public void itemsCancelled(long jobId, long items) {
    first.itemsCancelled(jobId, items);
    second.itemsCancelled(jobId, items);
  }

  @Override
  public void itemsRetried(long jobId, long items) {
    first.itemsRetried(jobId, items);
    second.itemsRetried(jobId, items);
  }

  @Override
  public void workerLost(String worker, String host, WorkerLoss cause) {
    first.workerLost(worker, host, cause);
    second.workerLost(worker, host, cause);
  }
}
