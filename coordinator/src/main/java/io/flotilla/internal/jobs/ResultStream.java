package io.flotilla.internal.jobs;

import io.flotilla.proto.Result;
import io.flotilla.proto.ResultBatch;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One reader of a job's results: sends them from its position on, only while the client's
 * flow-control window is open, so that a slow reader costs the coordinator no more than the results
 * it keeps anyway. Woken by new results and by the window opening; each wake-up runs on the
 * executor, one at a time.
 */
final class ResultStream implements Runnable {
  /**
   * Results per message, in bytes, under a client's usual 4 MiB inbound limit; a single result may
   * be as large as the service's message limit, and then travels alone.
   */
  private static final long BATCH_BYTES = 1 << 20;

  private final ServiceJob job;
  private final boolean ordered;
  private final ServerCallStreamObserver<ResultBatch> out;
  private final Executor executor;
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private final Runnable wake = this::wake;
  private long next; // guarded by this
  private boolean ended; // guarded by this

  ResultStream(
      ServiceJob job,
      boolean ordered,
      long from,
      ServerCallStreamObserver<ResultBatch> out,
      Executor executor) {
    this.job = job;
    this.ordered = ordered;
    this.next = from;
    this.out = out;
    this.executor = executor;
  }

  void start() {
    out.setOnReadyHandler(wake);
    out.setOnCancelHandler(this::end);
    job.watch(wake);
    wake();
  }

  private void wake() {
    // A reader whose window is shut costs nothing per result: the window opening wakes it.
    if (out.isReady() && scheduled.compareAndSet(false, true)) {
      executor.execute(this);
    }
  }

  @Override
  public synchronized void run() {
    scheduled.set(false);
    try {
      while (!ended && out.isReady()) {
        List<Result> batch = job.read(ordered, next, BATCH_BYTES);
        if (batch.isEmpty()) {
          if (job.readAll(next)) {
            end();
            out.onCompleted();
          }
          return;
        }
        out.onNext(ResultBatch.newBuilder().addAllResults(batch).build());
        next += batch.size();
      }
    } catch (RuntimeException e) {
      // The call is gone (cancelled under us): stop watching the job.
      end();
    }
  }

  private synchronized void end() {
    ended = true;
    job.unwatch(wake);
  }
}
