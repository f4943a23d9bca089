/**
 * Flotilla's API: Python's {@code concurrent.futures} for the JVM, on threads, on worker JVMs of
 * this machine, or on a cluster of them. This package and {@link io.flotilla.functions} are the
 * whole API; everything under {@code io.flotilla.internal} is the implementation, may change in any
 * release, and is not to be imported (the build checks that no API signature names an internal
 * type).
 *
 * <h2>Where to start</h2>
 *
 * <ul>
 *   <li>{@link io.flotilla.PoolExecutor}: the one interface every pool implements, an {@link
 *       java.util.concurrent.ExecutorService} with Python's {@code submit}, {@code map} and {@code
 *       shutdown(wait, cancelFutures)}; its Javadoc has the Python-to-Java table and the lifecycle.
 *   <li>The pools: {@link io.flotilla.ThreadPool} (threads of this JVM), {@link
 *       io.flotilla.ProcessPool#local} (worker JVMs on this machine) and {@link
 *       io.flotilla.ProcessPool#connect} (the workers of a running {@code flotilla coordinator}).
 *       Each has a builder that checks its options when they are set.
 *   <li>What travels: {@link io.flotilla.SerializableFunction}, {@link
 *       io.flotilla.SerializableCallable} and {@link io.flotilla.SerializableRunnable}, so that
 *       lambdas and method references can be sent to another JVM.
 *   <li>Waiting on many futures: {@link io.flotilla.Futures#asCompleted} and {@link
 *       io.flotilla.Futures#wait}; a map's results arrive through {@link io.flotilla.MapResults},
 *       tuned by {@link io.flotilla.MapOptions}.
 *   <li>What can go wrong: {@link io.flotilla.WorkerCrashedException} (a worker died running the
 *       task, as often as the pool allows), {@link io.flotilla.BrokenPoolException} (the pool can
 *       run nothing more), {@link io.flotilla.SerializationException} (a task or result cannot
 *       travel), and {@link io.flotilla.RemoteTraceback}, the cause attached to an exception thrown
 *       in a worker.
 * </ul>
 *
 * <p>Threading: every pool may be used from any number of threads. Futures are completed on the
 * pool's callback thread, or by the thread waiting in {@code get()}, never on a network thread, so
 * a callback may submit more work or cancel.
 */
package io.flotilla;
