package io.flotilla.scheduler;

import io.flotilla.proto.CoordinatorMessage;
import io.grpc.stub.StreamObserver;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The scheduler's view of one attached worker. Identity fields are immutable; the rest is guarded by the
 * scheduler's lock, except {@link #send}, which serialises writes to the stream on its own.
 */
final class WorkerHandle {
  final String id;
  final long pid;
  final String host;
  final int threads;
  private final StreamObserver<CoordinatorMessage> out;

  // guarded by the scheduler's lock
  int credits;
  boolean ready;
  boolean lost;
  /** Running an isolated chunk: receives nothing else until it is done. */
  boolean exclusive;
  /** Chunks sent to it so far, for the task quota. */
  int tasksSent;
  /** Has had its quota: gets nothing more, and is stopped once it holds nothing. */
  boolean retired;
  /** Killed by the pool to stop a chunk: its death is nobody's fault, and charges no attempt. */
  boolean killedDeliberately;
  final Map<Long, ScheduledChunk> inFlight = new LinkedHashMap<>(); // in the order sent
  final Set<Long> knownJobs = new HashSet<>();

  WorkerHandle(String id, long pid, String host, int threads, StreamObserver<CoordinatorMessage> out) {
    this.id = id;
    this.pid = pid;
    this.host = host;
    this.threads = threads;
    this.out = out;
  }

  /** @return whether the scheduler may send this worker another chunk now; guarded by its lock */
  boolean canTakeWork() {
    return ready && !exclusive && !retired && credits > 0;
  }

  /** Sends a message; gRPC stream observers are not thread-safe. A broken stream is left to onError. */
  void send(CoordinatorMessage message) {
    synchronized (out) {
      try {
        out.onNext(message);
      } catch (RuntimeException e) {
        // The stream is already closed: the connection's onError reports the loss.
      }
    }
  }

  void complete() {
    synchronized (out) {
      try {
        out.onCompleted();
      } catch (RuntimeException ignored) {
        // already closed
      }
    }
  }

  @Override
  public String toString() {
    return "worker " + id + " (pid " + pid + " on " + host + ")";
  }
}
