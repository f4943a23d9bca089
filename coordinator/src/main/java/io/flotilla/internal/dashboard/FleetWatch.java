package io.flotilla.internal.dashboard;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flotilla.internal.codec.RemoteErrors;
import io.flotilla.internal.map.JobLabel;
import io.flotilla.internal.scheduler.ChunkScheduler;
import io.flotilla.internal.scheduler.SchedulerMetrics;
import io.flotilla.proto.ItemFailure;
import io.flotilla.proto.RemoteError;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * What the dashboard shows, gathered from the scheduler's events ({@link SchedulerMetrics}) as they
 * happen and turned into one JSON snapshot a second ({@link #snapshot}). Its state is its own,
 * under its own lock, so that watching never holds the scheduler's: each event costs a map update
 * or two; each snapshot copies the ready workers (the scheduler's one short lock a second) and
 * walks bounded collections.
 *
 * <p>Everything kept is bounded however many tasks run: the task stream keeps {@link #MAX_SPANS}
 * spans from the last {@link #WINDOW_MS}; finished jobs, lost workers and failures keep the latest
 * few; the rate history keeps {@link #RATE_POINTS} seconds. Nothing kept holds an item's or a
 * result's value: only counts, sizes, names and the workers' error reports.
 *
 * <p>Threading: events arrive on any thread; every field below is guarded by {@code this}.
 */
public final class FleetWatch implements SchedulerMetrics {
  static final long WINDOW_MS = 60_000;
  static final int MAX_SPANS = 2_000;
  static final int RATE_POINTS = 300;
  private static final int MAX_ENDED_JOBS = 20;
  private static final int MAX_LOST_WORKERS = 20;
  private static final int MAX_FAILURES = 30;
  private static final int MAX_TRACEBACK_CHARS = 8_000;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String source;
  private final String name;
  private final ChunkScheduler scheduler;
  private final IntSupplier clients;
  private final LongSupplier wallMillis;
  private final long originNanos;
  private final long originMillis;

  private final Map<Long, Job> jobs = new LinkedHashMap<>(); // running, in the order opened
  private final ArrayDeque<Job> endedJobs = new ArrayDeque<>();
  private final Map<Long, Running> running = new HashMap<>(); // by chunk id
  private final Map<String, BitSet> lanesInUse = new HashMap<>(); // by worker id
  private final ArrayDeque<Span> spans = new ArrayDeque<>();
  private final Map<String, Integer> lossesByHost = new HashMap<>();
  private final Map<String, ObjectNode> lastSeen = new LinkedHashMap<>(); // live workers' rows
  private final ArrayDeque<ObjectNode> lostWorkers = new ArrayDeque<>();
  private final Map<String, SchedulerMetrics.WorkerLoss> lossCauses = new HashMap<>();
  private final ArrayDeque<ObjectNode> failures = new ArrayDeque<>();
  private final ArrayDeque<double[]> rate = new ArrayDeque<>(); // [t_ms, items/s]
  private long itemsCompleted;
  private long itemsFailed;
  private long lastTickItems;
  private long lastTickMillis;

  /**
   * @param source "coordinator" or "local pool"
   * @param name how the page titles it
   * @param scheduler whose workers and queue it shows
   * @param clients connected clients now (0 for a local pool)
   */
  public FleetWatch(String source, String name, ChunkScheduler scheduler, IntSupplier clients) {
    this(source, name, scheduler, clients, System::currentTimeMillis, System::nanoTime);
  }

  FleetWatch(
      String source,
      String name,
      ChunkScheduler scheduler,
      IntSupplier clients,
      LongSupplier wallMillis,
      LongSupplier nanos) {
    this.source = source;
    this.name = name;
    this.scheduler = scheduler;
    this.clients = clients;
    this.wallMillis = wallMillis;
    this.originNanos = nanos.getAsLong();
    this.originMillis = wallMillis.getAsLong();
    this.lastTickMillis = originMillis;
  }

  /** A job's tally. */
  private static final class Job {
    final long key; // the scheduler's id
    final String id;
    final String client;
    final JobLabel label;
    final long startedMs;
    long endedMs;
    long done;
    long failed;
    long cancelled;
    final ArrayDeque<long[]> history = new ArrayDeque<>(); // [t_ms, done+failed], last seconds

    Job(long key, String id, String client, JobLabel label, long startedMs) {
      this.key = key;
      this.id = id;
      this.client = client;
      this.label = label;
      this.startedMs = startedMs;
    }

    long answered() {
      return done + failed;
    }
  }

  private record Running(long jobId, String worker, int lane, int items, long sentNanos) {}

  private record Span(
      String worker, int lane, long jobId, int items, long startMs, long endMs, String outcome) {}

  private long toMillis(long schedulerNanos) {
    return originMillis + (schedulerNanos - originNanos) / 1_000_000;
  }

  // ------------------------------------------------------------------ events

  @Override
  public synchronized void jobOpened(long jobId, String client, JobLabel label) {
    String id = label.id() != null ? label.id() : Long.toString(jobId);
    jobs.put(jobId, new Job(jobId, id, client, label, wallMillis.getAsLong()));
  }

  @Override
  public synchronized void jobClosed(long jobId) {
    Job job = jobs.remove(jobId);
    if (job != null) {
      job.endedMs = wallMillis.getAsLong();
      endedJobs.addFirst(job);
      while (endedJobs.size() > MAX_ENDED_JOBS) {
        endedJobs.removeLast();
      }
    }
  }

  /** A local pool's tasks are one job that is never opened: it is made when first seen. */
  private Job job(long jobId) {
    Job job = jobs.get(jobId);
    if (job == null && jobId == 0) {
      job = new Job(jobId, "tasks", "local", JobLabel.TASKS, wallMillis.getAsLong());
      jobs.put(jobId, job);
    }
    return job;
  }

  @Override
  public synchronized void chunkSent(Sent sent) {
    job(sent.jobId());
    BitSet lanes = lanesInUse.computeIfAbsent(sent.worker(), w -> new BitSet());
    int lane = lanes.nextClearBit(0);
    lanes.set(lane);
    running.put(
        sent.chunkId(),
        new Running(sent.jobId(), sent.worker(), lane, sent.items(), sent.atNanos()));
  }

  @Override
  public synchronized void chunkLeft(Stay stay) {
    Running run = running.remove(stay.chunkId());
    if (run == null) {
      return;
    }
    BitSet lanes = lanesInUse.get(run.worker());
    if (lanes != null) {
      lanes.clear(run.lane());
    }
    // A chunk may wait in its worker's queue before it starts: it ran for as long as the worker
    // says it computed, up to its end.
    long start = stay.sentNanos();
    if (stay.computeNanos() > 0 && stay.endNanos() - stay.computeNanos() > start) {
      start = stay.endNanos() - stay.computeNanos();
    }
    String outcome =
        switch (stay.ending()) {
          case DONE -> stay.failed() > 0 ? "failed" : "ok";
          case FAILED -> "failed";
          case CANCELLED -> "cancelled";
          case REQUEUED -> "requeued";
          case LOST -> "lost";
        };
    spans.addLast(
        new Span(
            stay.worker(),
            run.lane(),
            stay.jobId(),
            stay.items(),
            toMillis(start),
            toMillis(stay.endNanos()),
            outcome));
    while (spans.size() > MAX_SPANS) {
      spans.removeFirst();
    }
  }

  @Override
  public synchronized void itemsAnswered(long jobId, int completed, int failed, long bytes) {
    itemsCompleted += completed;
    itemsFailed += failed;
    Job job = job(jobId);
    if (job != null) {
      job.done += completed;
      job.failed += failed;
    }
  }

  @Override
  public synchronized void itemErrors(
      long jobId, String worker, String host, List<ItemFailure> errors) {
    Job job = job(jobId);
    // One report per result is enough to show what goes wrong; the counts say how often.
    RemoteError error = errors.get(0).getError();
    ObjectNode f = JSON.createObjectNode();
    f.put("time_ms", wallMillis.getAsLong());
    f.put("worker", worker);
    f.put("host", host);
    f.put("job", job == null ? Long.toString(jobId) : job.id);
    f.put("function", job == null ? null : job.label.function());
    f.put(
        "error",
        error.getClassName() + (error.getHasMessage() ? ": " + clip(error.getMessage(), 300) : ""));
    f.put("traceback", clip(RemoteErrors.render(error), MAX_TRACEBACK_CHARS));
    f.put("count", errors.size());
    failures.addFirst(f);
    while (failures.size() > MAX_FAILURES) {
      failures.removeLast();
    }
  }

  @Override
  public synchronized void itemsFailed(long jobId, long items) {
    itemsFailed += items;
    Job job = job(jobId);
    if (job != null) {
      job.failed += items;
    }
  }

  @Override
  public synchronized void itemsCancelled(long jobId, long items) {
    Job job = job(jobId);
    if (job != null) {
      job.cancelled += items;
    }
  }

  @Override
  public synchronized void workerLost(String worker, String host, WorkerLoss cause) {
    lossesByHost.merge(host, 1, Integer::sum);
    lossCauses.put(worker, cause);
    // Its running chunks' lanes are freed as their stays end, which the scheduler tells first.
    lanesInUse.remove(worker);
  }

  private static String clip(String text, int max) {
    return text.length() <= max ? text : text.substring(0, max) + "…";
  }

  // ------------------------------------------------------------------ snapshot

  /**
   * Moves the rate history on: called once a second by whoever publishes snapshots.
   *
   * @return the snapshot of this moment, as JSON text on one line
   */
  public String tick() {
    long now = wallMillis.getAsLong();
    synchronized (this) {
      double seconds = Math.max(0.001, (now - lastTickMillis) / 1000.0);
      long items = itemsCompleted + itemsFailed;
      rate.addLast(new double[] {now, (items - lastTickItems) / seconds});
      while (rate.size() > RATE_POINTS) {
        rate.removeFirst();
      }
      lastTickItems = items;
      lastTickMillis = now;
      for (Job job : jobs.values()) {
        job.history.addLast(new long[] {now, job.answered()});
        while (job.history.size() > 6) {
          job.history.removeFirst();
        }
      }
    }
    return snapshot();
  }

  /**
   * @return what the dashboard shows now, as JSON text on one line (the API's snapshot)
   */
  public String snapshot() {
    // The scheduler's lock is taken here, not under this one: events never wait on the page.
    List<ChunkScheduler.WorkerView> workers = scheduler.workers();
    int queued = scheduler.queuedChunks();
    int clientCount = clients.getAsInt();
    long now = wallMillis.getAsLong();
    ObjectNode root = JSON.createObjectNode();
    root.put("api", 1);
    root.put("now_ms", now);
    root.put("source", source);
    root.put("name", name);
    root.put("version", io.flotilla.internal.FlotillaVersion.get());
    synchronized (this) {
      ObjectNode overview = root.putObject("overview");
      int threads = 0;
      int busy = 0;
      for (ChunkScheduler.WorkerView w : workers) {
        threads += w.threads();
        busy += w.busy();
      }
      overview.put("workers", workers.size());
      overview.put("threads", threads);
      overview.put("busy", busy);
      overview.put("queue_chunks", queued);
      overview.put("clients", clientCount);
      overview.put("items_completed", itemsCompleted);
      overview.put("items_failed", itemsFailed);
      overview.put("items_per_s", rate.isEmpty() ? 0.0 : round(rate.peekLast()[1]));
      ArrayNode points = overview.putArray("rate");
      for (double[] p : rate) {
        points.addArray().add((long) p[0]).add(round(p[1]));
      }
      workers(root.putArray("workers"), workers);
      jobs(root.putArray("jobs"));
      tasks(root.putObject("tasks"), now);
      ArrayNode failed = root.putArray("failures");
      failures.forEach(failed::add);
    }
    return root.toString();
  }

  private void workers(ArrayNode out, List<ChunkScheduler.WorkerView> live) {
    long nowMillis = wallMillis.getAsLong();
    long nowNanos = System.nanoTime();
    Map<String, ObjectNode> seen = new LinkedHashMap<>();
    for (ChunkScheduler.WorkerView w : live) {
      ObjectNode row = JSON.createObjectNode();
      row.put("id", w.id());
      row.put("host", w.host());
      row.put("pid", w.pid());
      row.put("threads", w.threads());
      row.put("busy", w.busy());
      row.put("items_done", w.itemsDone());
      row.put("chunks_done", w.chunksDone());
      row.put("losses", lossesByHost.getOrDefault(w.host(), 0));
      row.put("state", w.state());
      row.putNull("cause");
      WorkerDetails.fill(row, w, nowMillis, nowNanos);
      seen.put(w.id(), row);
      out.add(row);
    }
    // Workers gone since the last snapshot are kept, greyed, with why they went.
    for (Map.Entry<String, ObjectNode> was : lastSeen.entrySet()) {
      if (!seen.containsKey(was.getKey())) {
        ObjectNode row = was.getValue().deepCopy();
        row.put("state", "lost");
        row.put("busy", 0);
        SchedulerMetrics.WorkerLoss cause = lossCauses.remove(was.getKey());
        row.put("cause", cause == null ? "crashed" : cause.tag());
        lostWorkers.addFirst(row);
      }
    }
    while (lostWorkers.size() > MAX_LOST_WORKERS) {
      lostWorkers.removeLast();
    }
    lastSeen.clear();
    lastSeen.putAll(seen);
    lossCauses.keySet().retainAll(seen.keySet());
    lostWorkers.forEach(out::add);
  }

  private void jobs(ArrayNode out) {
    List<Job> all = new ArrayList<>(jobs.values());
    all.addAll(endedJobs);
    for (Job job : all) {
      ObjectNode row = out.addObject();
      row.put("id", job.id);
      row.put("client", job.client);
      row.put("function", job.label.function());
      row.put("kind", job.label.kind());
      long total = job.label.expectedItems();
      if (total >= 0) {
        row.put("items_total", total);
      } else {
        row.putNull("items_total");
      }
      row.put("items_done", job.done);
      row.put("items_failed", job.failed);
      double perSecond = 0;
      if (job.endedMs == 0 && job.history.size() >= 2) {
        long[] first = job.history.peekFirst();
        long[] last = job.history.peekLast();
        perSecond = (last[1] - first[1]) * 1000.0 / Math.max(1, last[0] - first[0]);
      } else if (job.endedMs != 0) {
        perSecond = job.answered() * 1000.0 / Math.max(1, job.endedMs - job.startedMs);
      }
      row.put("items_per_s", round(perSecond));
      long left = total - job.answered();
      if (job.endedMs == 0 && total >= 0 && perSecond > 0 && left >= 0) {
        row.put("eta_s", round(left / perSecond));
      } else {
        row.putNull("eta_s");
      }
      String state;
      if (job.endedMs == 0) {
        state = "running";
      } else if (job.cancelled > 0 || (total >= 0 && job.answered() < total)) {
        state = "cancelled";
      } else {
        state = job.failed > 0 ? "failed" : "done";
      }
      row.put("state", state);
      row.put("started_ms", job.startedMs);
      if (job.endedMs == 0) {
        row.putNull("ended_ms");
      } else {
        row.put("ended_ms", job.endedMs);
      }
    }
  }

  private void tasks(ObjectNode out, long now) {
    out.put("window_ms", WINDOW_MS);
    ArrayNode list = out.putArray("spans");
    long from = now - WINDOW_MS;
    Iterator<Span> old = spans.iterator();
    while (old.hasNext() && old.next().endMs() < from) {
      old.remove();
    }
    for (Span s : spans) {
      ObjectNode span = list.addObject();
      span.put("worker", s.worker());
      span.put("lane", s.lane());
      span.put("job", jobName(s.jobId()));
      span.put("items", s.items());
      span.put("start_ms", s.startMs());
      span.put("end_ms", s.endMs());
      span.put("outcome", s.outcome());
    }
    int budget = MAX_SPANS;
    for (Running r : running.values()) {
      if (budget-- == 0) {
        break;
      }
      ObjectNode span = list.addObject();
      span.put("worker", r.worker());
      span.put("lane", r.lane());
      span.put("job", jobName(r.jobId()));
      span.put("items", r.items());
      span.put("start_ms", toMillis(r.sentNanos()));
      span.putNull("end_ms");
      span.put("outcome", "running");
    }
  }

  /** The id a span shows for its job: the one the jobs list shows. */
  private String jobName(long jobId) {
    Job job = jobs.get(jobId);
    if (job != null) {
      return job.id;
    }
    for (Job ended : endedJobs) {
      if (ended.key == jobId) {
        return ended.id;
      }
    }
    return Long.toString(jobId);
  }

  private static double round(double x) {
    return Math.round(x * 10) / 10.0;
  }
}
