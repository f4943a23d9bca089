/**
 * {@code flotilla bench}: end-to-end measurements of Flotilla against a serial loop, a thread pool
 * and Python's {@code ProcessPoolExecutor}, on the same workloads (the seed articles' and the
 * extremes of the pool: a million trivial items, large results, start-up). The command is {@link
 * io.flotilla.bench.BenchCommand}; everything else is package-private.
 *
 * <pre>
 * BenchCommand ── options, --only ──► Catalog: each workload's sizes, warm-ups, repetitions
 *      │                                  │
 *      │                                  ▼
 *      │        in this JVM, on Pools (started and ready before any clock):
 *      │          MapBenchmark (serial loop, ThreadPool.map, ProcessPool.map), RoundTrips, LazyMap
 *      │          MetricsOverhead (pools of its own, with and without a dashboard, one read over HTTP)
 *      │        in fresh processes, via FreshProcess (timed from spawn to the first result line):
 *      │          java FreshCaller (startup, rss)
 *      │          python3 flotilla_bench.py WORKLOAD   (PythonSide: extracted from this jar)
 *      │                                  │
 *      ▼                                  ▼
 *   Session.emit(Row) ◄────────── one Row per measurement; Python prints the same JSON lines
 *      │
 *      ├─► --json: each Row as one line on stdout, as it is measured
 *      └─► otherwise: Report, a table with ratios, at the end
 * </pre>
 *
 * <p>Progress goes to stderr. The Java and Python sides share one line format ({@code Row}), so the
 * Python script's output needs no translation.
 */
package io.flotilla.bench;
