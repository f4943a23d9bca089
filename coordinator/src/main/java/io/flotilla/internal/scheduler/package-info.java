/**
 * The coordinator's side of a process pool: hands chunks to worker JVMs and matches their results.
 *
 * <h2>Data flow, inside the coordinator</h2>
 *
 * <pre>
 *  caller thread                     scheduler (one lock)                  gRPC threads
 *  ─────────────                     ────────────────────                  ────────────
 *  pool.map(fn, items)
 *   └ MapRun.refill: read a chunk of
 *     items, ProcessBackend.run:
 *     encode items (Kryo) ─────────► queue ──dispatch──► worker with credit ──Chunk──► worker JVM
 *  (coordinator server: a client's     ▲    (DefineJob first, once per job        │
 *   chunk, already encoded, comes by   │     per worker; beyond a chunk per run   │
 *   RelayedJobs.submit ────────────────┤     thread plus one, more wait there     │
 *   and its news goes back as bytes;   │     only while its results are tiny)     │
 *   a job-service job's inputs come by │                                          │
 *   ServiceJob.accept ─► ProcessBackend┤                                          │
 *   with a NamedCall as the function)  │                                          │
 *                                      │                                          ▼
 *                                      │  result(worker, ChunkResult) ◄──ChunkResult + credit
 *                                      │   drop if (chunk, attempt) is stale
 *                                      │   partial: count the items delivered, chunk stays SENT
 *                                      │   last piece: mark DONE, dispatch more
 *                                      │        │ (lock released)
 *  MapRun.next: decode values ◄────────┼────────┘ onResult → MapRun.onDone / TaskFuture
 *   (RemoteOutcome, lazily)            │                        (futures completed on a callback
 *                                      │                         thread, or handed to the caller
 *                                      │                         blocked in get(); never a gRPC thread)
 *  yielded part: rest resubmitted ─────┘ (front of the queue)
 *
 *  worker lost (stream ends / process exits / ──► workerLost: its chunks go back to the front of the
 *   heartbeats missed for heartbeatTimeout)      queue to run isolated (alone on a worker), a map chunk
 *                                                of several items is handed back to MapRun to be split
 *                                                in halves (poison hunt), and a chunk out of attempts
 *                                                fails with WorkerCrashedException; LocalFleet starts a
 *                                                replacement (strict(): the pool breaks instead). A
 *                                                server's worker is a worker host's task JVM: the host
 *                                                reports how it died (ClusterFleet, awaited up to 2 s)
 *                                                and starts a fresh one. A server's workers are lost
 *                                                also when the cluster downs their member
 *                                                (WorkerLinkServer.memberGone)
 *  worker's host unreachable (the cluster's ──► workerUnreachable: no more work for it; its chunks go
 *   failure detector, seconds before it          back to the front of the queue at once under new
 *   downs the member: WorkerLinkServer.          attempts, uncharged and not isolated, and run
 *   memberUnreachable)                           elsewhere. Whatever it still sends for one of them
 *                                                settles it while it waits in the queue (first answer
 *                                                wins), and is dropped once it has been sent again
 *  reachable again (not downed meanwhile) ──► workerReachable: VoidChunks (those chunks, at the
 *                                             attempts it had) before any new work; it drops them and
 *                                             answers each with its credit; it takes work again.
 *                                             Downed instead: lost as above, with nothing to re-queue
 *  queue empty and a worker idle ──► Yield for a chunk waiting in a busy worker's queue (it comes
 *                                     back whole and re-queues at the front), else for the biggest
 *                                     multi-item chunk (its unstarted items come back via MapRun)
 *  cancel(false) of a chunk waiting ─────► Yield to its worker (the future waits for the answer, at
 *   in a worker's queue                    most WITHDRAW_PATIENCE): back whole, it is cancelled and
 *                                          never runs; started, the cancel fails and it runs on
 *  Started(chunk) with a task timeout ──► timer; on expiry, or on cancel(true) (abort), the worker
 *                                         running it is killed and its other chunks re-queue uncharged
 *  task quota or heavy heap reached ──► worker retired: no more work, Stop once drained, replacement
 *                                       started at once
 *  chunks queued, no worker ready ──► (coordinator server) warned at once and reported; after the
 *                                      patience the queued chunks fail with BrokenPoolException
 *  every event, once the lock is  ──► its watchers (SchedulerMetrics; none unless a dashboard is
 *   released                          served): chunk sent, its stay on a worker ended, items
 *                                     answered, worker lost; PoolMetrics counts them for /metrics,
 *                                     FleetWatch keeps the dashboard's jobs and task stream
 *  Sample(heap, rss, cpu, gc), about ──► WorkerLinkServer, NOT the scheduler: kept on the WorkerHandle
 *   one a second from each worker         (volatile, with the cores used since the previous one), as
 *   (any message: last heard from)        is when it was last heard from; read by workers() and the
 *                                         per-worker metrics (WorkerSampleMetrics) without the lock
 * </pre>
 *
 * <p><b>ChunkScheduler</b> owns the queue and the per-worker bookkeeping (credits, chunks in
 * flight, jobs whose function a worker already has). Every state change happens under its one lock,
 * through its named transitions (assign, requeue, cut off, split, settle, and a worker's loss),
 * which is held only for bookkeeping and non-blocking sends; callbacks into the map and future
 * machinery are made after it is released. Its clock is injected ({@link
 * io.flotilla.internal.scheduler.SchedulerClock}), so its tests run the whole table without sockets
 * or sleeps. See {@link io.flotilla.internal.scheduler.ScheduledChunk} for the chunk lifecycle.
 *
 * <p><b>WorkerLinkServer</b> terminates each worker's Attach stream: it checks the handshake
 * (token, protocol version, codec fingerprint) before a worker gets any work, then turns messages
 * into scheduler events. It runs handlers on the network threads; none of them blocks.
 *
 * <p><b>ProcessBackend</b> is the {@link io.flotilla.internal.map.ChunkBackend} over all this: it
 * encodes a job's function once and each fresh chunk's items once, on the caller's thread (the rest
 * of a yielded chunk is re-encoded where the yield arrives), and wraps results in {@link
 * io.flotilla.internal.scheduler.RemoteOutcome}, which decodes on the consumer's thread.
 */
package io.flotilla.internal.scheduler;
