/**
 * JMH microbenchmarks of the coordinator's hot paths, in-process, without worker JVMs or sockets:
 * the per-item and per-chunk costs that {@code flotilla bench} only sees summed up end to end.
 *
 * <pre>
 *  path of a chunk                                          measured by
 *  ───────────────                                          ───────────
 *  caller     MapRun reads a chunk of input ..............  MapReorderBenchmark
 *             encodes the items (Kryo) ...................  CodecBenchmark
 *  scheduler  submit, dispatch to a worker with credit,
 *             send the Chunk .............................  DispatchBenchmark: the whole round, out
 *             (the worker runs it: not here)                and back, on an in-memory stream
 *             result: credit back, chunk settled .........
 *             tells its watchers (meters, dashboard) .....  WatchBenchmark
 *  caller     decodes the values (RemoteOutcome) .........  ResultDeliveryBenchmark, CodecBenchmark
 *             or completes the task's future .............  ResultDeliveryBenchmark
 *             hands results out in input order ...........  MapReorderBenchmark
 * </pre>
 *
 * <ul>
 *   <li>{@link io.flotilla.microbench.CodecBenchmark}: encoding and decoding a chunk's items, and a
 *       submitted lambda; nanoseconds per item.
 *   <li>{@code io.flotilla.internal.scheduler.DispatchBenchmark}: chunks through the scheduler's
 *       submit, dispatch and result, per second on one thread. It lives in the scheduler's package
 *       because the scheduler's methods are package-private; on the class path a package may span
 *       jars.
 *   <li>{@link io.flotilla.microbench.MapReorderBenchmark}: items per second through {@code
 *       MapRun}'s window and reordering, chunks completing out of order.
 *   <li>{@code io.flotilla.internal.scheduler.ResultDeliveryBenchmark}: decoding a chunk's results
 *       and completing a task's future; nanoseconds per item or per task.
 *   <li>{@link io.flotilla.microbench.WatchBenchmark}: the scheduler's events for one chunk told to
 *       its watchers (none, the meters, the meters and the dashboard), on one thread and on two;
 *       nanoseconds per chunk. {@code DispatchBenchmark -p watch=none,metrics,dashboard} measures
 *       the same through the whole dispatch round.
 * </ul>
 *
 * <p>Run them with {@code ./flotilla jmh} (all, about four minutes on 2 cores) or, say, {@code
 * ./flotilla jmh Dispatch -prof gc}; any JMH option works. Each benchmark runs in one forked JVM
 * (so that one benchmark's profile cannot skew the next) with five 1-second warm-ups and four
 * 1-second measurements: on the project's 2-core machine with other work running, the JIT had not
 * finished with some of them after three seconds.
 *
 * <p>Every fork gets a small, fixed heap ({@code -Xms256m -Xmx256m}). With the default, G1 grew the
 * young generation past a gigabyte within seconds, and until each new page had been written once
 * the page faults dominated (they are slow on the project's machine: touching 1 GiB up front took 4
 * s): {@code ResultDeliveryBenchmark.deliverAndGet} read 110 to 180 ns per operation for the first
 * several seconds of a fork, sometimes for all of it, and 9 ns afterwards. With 256 MiB the young
 * generation is touched through within the warm-ups. None of the benchmarks keeps more than a few
 * megabytes live. A {@code -jvmArgsAppend} on the command line replaces these flags (and {@code
 * CodecBenchmark}'s {@code --add-opens}, which {@code ./flotilla} passes anyway).
 *
 * <p>Numbers from a busy machine stay noisy; compare runs made side by side, not against a number
 * in a document.
 */
package io.flotilla.microbench;
