package io.flotilla.internal.worker;

/**
 * What a worker is told on its command line (a local pool's worker gets its token on stdin).
 *
 * @param coordinatorHost where the coordinator listens
 * @param coordinatorPort its port
 * @param workerId the id the launcher gave this worker, used in logs and error reports
 * @param threads run threads
 * @param token the shared secret to present in Hello
 * @param host this machine's name, for error reports
 * @param maxMessageBytes the largest message accepted from the coordinator
 * @param clusterAddress this worker's Pekko member address when it joined a cluster, else empty
 */
record WorkerOptions(
    String coordinatorHost,
    int coordinatorPort,
    String workerId,
    int threads,
    String token,
    String host,
    int maxMessageBytes,
    String clusterAddress) {}
