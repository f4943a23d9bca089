package io.flotilla;

/**
 * What a process pool has lived through so far: the figures a dashboard or a chaos run reads.
 *
 * @param crashes worker processes that exited while the pool was running (killed, crashed, or
 *     exited)
 * @param retries chunks sent again because the worker holding them was lost
 * @param replacements worker processes started to replace others that exited
 * @param recycled workers retired on purpose after their task quota ({@code maxTasksPerWorker})
 */
public record PoolStats(long crashes, long retries, long replacements, long recycled) {}
