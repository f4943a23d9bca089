package io.flotilla.internal.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.internal.map.JobLabel;
import io.flotilla.internal.scheduler.ChunkScheduler;
import io.flotilla.internal.scheduler.SchedulerMetrics;
import io.flotilla.proto.ItemFailure;
import io.flotilla.proto.RemoteError;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The dashboard's model alone, on a hand-moved clock: what events turn into, and that it stays
 * bounded however much runs.
 */
class FleetWatchTest {
  private static final long WALL_ORIGIN = 1_800_000_000_000L;
  private final AtomicLong wall = new AtomicLong(WALL_ORIGIN);
  private final AtomicLong nanos = new AtomicLong(5_000_000_000L);
  private final FleetWatch watch =
      new FleetWatch("local pool", "test", new ChunkScheduler(3), () -> 0, wall::get, nanos::get);

  private void advanceMillis(long ms) {
    wall.addAndGet(ms);
    nanos.addAndGet(ms * 1_000_000);
  }

  private JsonNode snapshot() throws Exception {
    return new ObjectMapper().readTree(watch.snapshot());
  }

  private SchedulerMetrics.Sent sent(long chunk, String worker, int items) {
    return new SchedulerMetrics.Sent(7, chunk, worker, items, 100, nanos.get());
  }

  private SchedulerMetrics.Stay stay(
      SchedulerMetrics.Sent sent, long computeNanos, SchedulerMetrics.Ending ending) {
    return new SchedulerMetrics.Stay(
        sent.jobId(),
        sent.chunkId(),
        sent.worker(),
        sent.items(),
        0,
        sent.atNanos(),
        nanos.get(),
        computeNanos,
        ending);
  }

  @Test
  void aJobsProgressRateAndTimeLeftComeFromItsAnsweredItems() throws Exception {
    watch.jobOpened(7, "local", new JobLabel("Demo::isPrime", "map", 1_000));
    watch.tick();
    advanceMillis(1_000);
    watch.itemsAnswered(7, 200, 0, 800);
    watch.tick();
    advanceMillis(1_000);
    watch.itemsAnswered(7, 190, 10, 800);
    JsonNode snap = new ObjectMapper().readTree(watch.tick());

    JsonNode job = snap.path("jobs").get(0);
    assertThat(job.path("function").asText()).isEqualTo("Demo::isPrime");
    assertThat(job.path("items_total").asLong()).isEqualTo(1_000);
    assertThat(job.path("items_done").asLong()).isEqualTo(390);
    assertThat(job.path("items_failed").asLong()).isEqualTo(10);
    assertThat(job.path("items_per_s").asDouble()).isEqualTo(200.0);
    assertThat(job.path("eta_s").asDouble()).isEqualTo(3.0);
    assertThat(job.path("state").asText()).isEqualTo("running");
    assertThat(snap.path("overview").path("items_per_s").asDouble()).isEqualTo(200.0);
    assertThat(snap.path("overview").path("rate").size()).isEqualTo(3);

    watch.jobClosed(7);
    JsonNode ended = snapshot().path("jobs").get(0);
    assertThat(ended.path("state").asText()).isEqualTo("cancelled"); // 400 of 1,000 answered
    assertThat(ended.path("ended_ms").asLong()).isEqualTo(wall.get());
  }

  @Test
  void aChunkRunsInItsWorkersFirstFreeLaneForAsLongAsTheWorkerComputed() throws Exception {
    SchedulerMetrics.Sent a = sent(1, "w1", 10);
    watch.chunkSent(a);
    SchedulerMetrics.Sent b = sent(2, "w1", 10);
    watch.chunkSent(b);
    advanceMillis(500);
    JsonNode running = snapshot().path("tasks").path("spans");
    assertThat(running).hasSize(2);
    assertThat(running.findValuesAsText("outcome")).containsOnly("running");
    assertThat(running.findValues("lane").stream().map(JsonNode::asInt))
        .containsExactlyInAnyOrder(0, 1);

    // It waited 300 ms in the worker's queue, then computed for 200 ms.
    watch.chunkLeft(stay(a, 200_000_000L, SchedulerMetrics.Ending.DONE));
    SchedulerMetrics.Sent c = sent(3, "w1", 10);
    watch.chunkSent(c);
    JsonNode spans = snapshot().path("tasks").path("spans");
    JsonNode done = null;
    for (JsonNode s : spans) {
      if (s.path("outcome").asText().equals("ok")) {
        done = s;
      }
    }
    assertThat(done).isNotNull();
    assertThat(done.path("lane").asInt()).isZero();
    assertThat(done.path("end_ms").asLong() - done.path("start_ms").asLong()).isEqualTo(200);
    assertThat(done.path("end_ms").asLong()).isEqualTo(wall.get());
    // The freed lane is taken by the next chunk.
    for (JsonNode s : spans) {
      if (s.path("outcome").asText().equals("running") && s.path("items").asInt() == 10) {
        assertThat(s.path("lane").asInt()).isIn(0, 1);
      }
    }
    watch.chunkLeft(stay(b, 0, SchedulerMetrics.Ending.LOST));
    assertThat(snapshot().path("tasks").path("spans").findValuesAsText("outcome"))
        .contains("ok", "lost", "running");
  }

  @Test
  void whatItKeepsStaysBoundedHoweverMuchRuns() throws Exception {
    watch.jobOpened(7, "local", new JobLabel("f", "map", -1));
    RemoteError error =
        RemoteError.newBuilder()
            .setClassName("java.lang.ArithmeticException")
            .setMessage("x".repeat(50_000))
            .setHasMessage(true)
            .build();
    for (int i = 0; i < 20_000; i++) {
      SchedulerMetrics.Sent s = sent(i, "w" + (i % 4), 1);
      watch.chunkSent(s);
      advanceMillis(1);
      watch.chunkLeft(stay(s, 0, SchedulerMetrics.Ending.DONE));
      if (i % 100 == 0) {
        watch.itemErrors(
            7, "w1", "h", List.of(ItemFailure.newBuilder().setOffset(0).setError(error).build()));
      }
    }
    for (int i = 0; i < 100; i++) {
      watch.jobOpened(100 + i, "local", new JobLabel("g", "map", 1));
      watch.jobClosed(100 + i);
    }
    String text = watch.snapshot();
    JsonNode snap = new ObjectMapper().readTree(text);
    assertThat(snap.path("tasks").path("spans").size()).isLessThanOrEqualTo(FleetWatch.MAX_SPANS);
    assertThat(snap.path("failures").size()).isEqualTo(30);
    assertThat(snap.path("failures").get(0).path("error").asText().length()).isLessThan(400);
    assertThat(snap.path("jobs").size()).isEqualTo(21); // the running one, and the last 20 ended
    assertThat(text.length()).isLessThan(1_000_000);
  }

  @Test
  void aLocalPoolsTasksAreOneJobMadeWhenFirstSeen() throws Exception {
    watch.chunkSent(new SchedulerMetrics.Sent(0, 1, "w1", 1, 10, nanos.get()));
    watch.itemsAnswered(0, 1, 0, 10);
    JsonNode job = snapshot().path("jobs").get(0);
    assertThat(job.path("id").asText()).isEqualTo("tasks");
    assertThat(job.path("kind").asText()).isEqualTo("tasks");
    assertThat(job.path("items_total").isNull()).isTrue();
    assertThat(job.path("items_done").asLong()).isEqualTo(1);
  }
}
