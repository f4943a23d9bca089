/**
 * The worker JVM: pulls chunks from its coordinator, runs the user's function on them, streams back
 * results.
 *
 * <h2>Data flow, out of process</h2>
 *
 * <pre>
 *   coordinator JVM                 |  worker JVM (this package)
 *                                   |
 *   ChunkScheduler ==gRPC Attach==> |  WorkerSession (gRPC callback thread; never blocks)
 *     DefineJob(job, fn, bundles) --+--> functions[job] = bytes (decoded once, on first use, by the
 *                                   |    codec of the job's code: the worker's own, or a loader over
 *                                   |    shipped jars, which CodeCache fetches from the CodeStore once)
 *     Chunk(job, chunk, items) -----+--> runQueue ──► run threads (n = --threads, default 1)
 *                                   |                   decode item i ─► fn.apply ─► encode result i
 *                                   |    (a job-service job's fn is a NamedCall: the function
 *                                   |     registered by that name, found once in the job's loader)
 *     Started(chunk) <-------------------------------------------- (only with a task timeout)
 *     ChunkResult(partial, values) <----------------------------- (a piece every 10 ms or 1 MiB of
 *                                   |                     results, while the chunk runs on)
 *     ChunkResult(values, +1 credit)<---------------------------- (the last piece of the chunk)
 *     Yield(chunk) -----------------+--> chunk.yield flag when asked because another worker is idle:
 *                                   |                     its unstarted items go back "yielded"
 *     ForgetJob(job) ---------------+--> drop queued chunks of job, answer each "cancelled"; its code is
 *                                   |    released once its running chunks are answered
 *     VoidChunks(chunk@attempt) ----+--> (this host was unreachable, and those chunks ran elsewhere)
 *                                   |    drop a queued one, stop a running one at its next item;
 *                                   |    either way answer it once "cancelled", returning its credit
 *     Stop(reason) / stream closed -+--> exit, with a code per reason (WorkerExit): 0 when the
 *                                   |    coordinator is stopping, 67 for a fresh worker in its place
 *                                   |    (to stop a task it runs: its host or pool starts another)
 *     Leaving(reason) <------------------ a joined worker asked to stop (SIGTERM): exit 0
 *     Sample(heap, rss, cpu, gc) <------- sampler thread (one per session), once the Welcome asks:
 *                                   |    one at once, then one a period (a second); skipped while
 *                                   |    the stream is flow-controlled; stops with the session
 *                                   |
 *   parent process ── stdin pipe ───+--> ParentWatch: first line is the token; EOF (the parent died,
 *                                   |    even by SIGKILL) or a changed parent pid ─► halt
 *   (a worker that joined a coordinator server runs as a task JVM of its worker host: the host is
 *    its parent, and starts a fresh one whenever it dies; see below)
 * </pre>
 *
 * <h2>A worker host ({@code flotilla worker}), out of process</h2>
 *
 * <pre>
 *   coordinator                     |  worker host JVM: JoiningWorker   |  task JVM: AttachedWorker
 *   Membership.Join <---------------+-- secret, protocol, serializer     |
 *   Pekko cluster <=================+== member Up, heartbeats            |
 *                                   |   WorkerSupervisor ──start──────────> WorkerSession, as above,
 *   WorkerLink.Attach <-------------+-----------------------------------+-- Hello names the host's
 *                                   |     ◄── READY / ENDING lines ───────   member address
 *                                   |   TaskJvm: stdout, stderr passed on; stderr tail kept
 *   Membership.TaskJvmExited <------+-- a death: exit code, stderr tail;  |
 *                                   |   a fresh task JVM (RestartBackoff) |
 *                                   |   stdin pipe (the secret) ─────────> ParentWatch: EOF ─► halt
 * </pre>
 *
 * <p>The host runs no user code, so no task can take its cluster membership with it; the task JVM
 * runs it all, and is the only thing that dies of it.
 *
 * <p><b>WorkerMain</b> starts as early as the pool can start it, often before the coordinator
 * listens: it loads its classes, then polls the port every few milliseconds until it accepts, and
 * only then opens the stream (gRPC's own reconnection would back off for a second).
 *
 * <p><b>WorkerSession</b> owns the stream. It says Hello (protocol version, codec fingerprint,
 * token, its Java and Flotilla versions), runs the initializer once after Welcome, then grants
 * credits: one per run thread plus a prefetch of eight, so that a thread finishing a chunk finds
 * the next one already here. Each result returns one credit, so the coordinator never has more
 * chunks outstanding on this worker than it can hold; it fills the prefetch beyond one chunk only
 * with tiny chunks, and takes queued chunks back (Yield of a chunk not started: it is answered at
 * once, whole) when another worker runs dry.
 *
 * <p><b>ChunkRun</b> processes one chunk item by item: an item that fails to decode, throws, or
 * whose result fails to encode is reported as an item failure tagged with that boundary, and its
 * neighbours still complete; an item whose exception the pool listed in {@code retryOn} is run
 * again in place. If anything outside those guards breaks, the whole chunk is answered as failed
 * rather than left unanswered. Between items it sends what it has so far as a partial result once
 * 10 ms have passed or 1 MiB of results have piled up, and carries on: results reach the caller
 * while a long chunk runs, large ones in messages of about a megabyte, and the items answered never
 * run again. When asked, it stops and hands the unstarted rest back (work stealing), so a chunk
 * that was sized too big never holds work hostage; it also does so unasked once it has sent 32 MiB
 * of results, so that the caller can pace the rest. A chunk the coordinator voids (it ran it
 * elsewhere while the network cut this worker off) sends no more values: it is answered as
 * cancelled, so that its credit comes back. With a task timeout set, it first says Started, so the
 * coordinator can time it. Each result also says whether the heap kept after the last collection is
 * above the recycling limit ("heavy"), which retires the worker. Only the death of the JVM loses a
 * chunk, and that is the coordinator's to notice.
 *
 * <p><b>ResourceSampler</b> reads what the worker uses, for a Sample: heap, resident memory ({@code
 * /proc/self/status}), CPU time and garbage collection, all as totals, so that the coordinator
 * derives rates from any two samples and a skipped one loses nothing.
 *
 * <p><b>ParentWatch</b> makes orphan workers impossible: the JVM has no {@code PR_SET_PDEATHSIG},
 * so the worker watches its stdin pipe (EOF when the parent dies, however it dies), its parent pid,
 * and its stream to the coordinator; any of them ends the process. A worker already exiting cleanly
 * (which may take a moment while it writes the pool's class data archive) gets a bounded grace
 * first.
 */
package io.flotilla.internal.worker;
