"""The Python side of `flotilla bench`: the same workloads on concurrent.futures.ProcessPoolExecutor.

Run by the Java harness (io.flotilla.bench.PythonSide), one fresh interpreter per workload:

    python3 flotilla_bench.py WORKLOAD --workers N [--items N] [--reps N] [--warmups N] ...

Every measurement is printed on stdout as one JSON object per line, in the harness's format:
{"workload":..., "executor":"python-process", "workers":N, "items":N, "seconds":S, "items_per_s":X, ...}.
Errors go to stderr.

What is measured mirrors the Java side: the executor is created and its worker processes started before
the clock starts (except for `startup`), the workload runs `--warmups` times untimed, then `--reps`
times timed, and the median is reported. Map rows carry the chunksize used: Python's default (1) unless
the harness asks for another.
"""

import argparse
import hashlib
import json
import math
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, wait

EXECUTOR = "python-process"


def noop():
    return None


def identity(x):
    return x


def hash_one(n):
    """The seed's hash_one, returning the last digest like the Java version does."""
    last = b""
    for i in range(1, n):
        last = hashlib.pbkdf2_hmac("sha256", b"password", b"salt", i * 10000)
    return last.hex()


def is_prime(n):
    """The seed's is_prime."""
    if n < 2:
        return False
    if n == 2:
        return True
    if n % 2 == 0:
        return False
    sqrt_n = int(math.floor(math.sqrt(n)))
    for i in range(3, sqrt_n + 1, 2):
        if n % i == 0:
            return False
    return True


def count_words_of_text(text):
    counts = {}
    for word in text.split():
        word = word.lower()
        counts[word] = counts.get(word, 0) + 1
    return counts


def count_words(path):
    with open(path, encoding="utf-8") as f:
        return count_words_of_text(f.read())


def download(url):
    with urllib.request.urlopen(url) as response:
        return len(response.read())


def mebibyte(_):
    return bytes(1 << 20)


def emit(row):
    """Prints one result line; floats keep six significant digits, as on the Java side."""
    out = {}
    for key, value in row.items():
        if isinstance(value, float):
            value = float("%.6g" % value)
        out[key] = value
    print(json.dumps(out, separators=(",", ":")), flush=True)


def start_workers(executor, workers):
    """Makes every worker process exist before timing: sleeping tasks keep each one busy, so the
    executor has to start a new process for the next one instead of reusing an idle one."""
    list(executor.map(time.sleep, [0.05] * workers))


def median_seconds(reps, warmups, run):
    for _ in range(warmups):
        run()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def map_row(args, name, fn, items, workers, chunksize=1, extra=None):
    with ProcessPoolExecutor(max_workers=workers) as executor:
        start_workers(executor, workers)

        def run():
            for _ in executor.map(fn, items, chunksize=chunksize):
                pass

        seconds = median_seconds(args.reps, args.warmups, run)
    row = {
        "workload": name,
        "executor": EXECUTOR,
        "workers": workers,
        "items": len(items),
        "seconds": seconds,
        "items_per_s": len(items) / seconds,
        "chunksize": chunksize,
    }
    row.update(extra or {})
    emit(row)


def rss_mb(pid="self"):
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError("no VmRSS in /proc/%s/status" % pid)


# ---------------------------------------------------------------------------------------------------
# Workloads


def run_hash(args):
    map_row(args, "hash", hash_one, [args.n] * args.items, args.workers)


def run_primes(args):
    map_row(args, "primes", is_prime, list(range(19000, 19000 + args.items)), args.workers)


def run_wordcount_files(args):
    map_row(args, "wordcount-files", count_words, list(args.files), args.workers)


def run_wordcount_lines(args):
    lines = []
    for path in args.files:
        with open(path, encoding="utf-8") as f:
            lines.extend(f.read().splitlines())
    map_row(args, "wordcount-lines", count_words_of_text, lines, args.workers)


def run_download(args):
    # Imported here, before the workers fork, so that they inherit it: it costs 50 ms, which each of 16
    # workers would pay on its first fetch, and every other workload's interpreter (startup's included)
    # on its start.
    global urllib
    import urllib.request

    urls = ["%spage/%d" % (args.url, i) for i in range(args.items)]
    map_row(args, "download", download, urls, args.workers)


def run_map1m(args):
    map_row(args, "map1m", identity, range(args.items), args.workers, chunksize=args.chunksize)


def run_payload(args):
    with ProcessPoolExecutor(max_workers=args.workers) as executor:
        start_workers(executor, args.workers)

        def run():
            total = 0
            for block in executor.map(mebibyte, range(args.items)):
                total += len(block)
            assert total == args.items << 20

        seconds = median_seconds(args.reps, args.warmups, run)
    emit({
        "workload": "payload",
        "executor": EXECUTOR,
        "workers": args.workers,
        "items": args.items,
        "seconds": seconds,
        "items_per_s": args.items / seconds,
        "chunksize": 1,
        "mb_per_s": args.items / seconds,  # MiB per second, as on the Java side
    })


def run_submit(args):
    with ProcessPoolExecutor(max_workers=args.workers) as executor:
        start_workers(executor, args.workers)

        def run():
            done, not_done = wait([executor.submit(noop) for _ in range(args.items)])
            assert not not_done

        seconds = median_seconds(args.reps, args.warmups, run)
    emit({
        "workload": "submit",
        "executor": EXECUTOR,
        "workers": args.workers,
        "items": args.items,
        "seconds": seconds,
        "items_per_s": args.items / seconds,
    })


def run_latency(args):
    with ProcessPoolExecutor(max_workers=args.workers) as executor:
        start_workers(executor, args.workers)
        for _ in range(args.warmups):
            executor.submit(noop).result()
        each = []
        start = time.perf_counter()
        for _ in range(args.items):
            t0 = time.perf_counter_ns()
            executor.submit(noop).result()
            each.append(time.perf_counter_ns() - t0)
        seconds = time.perf_counter() - start
    each.sort()
    emit({
        "workload": "latency",
        "executor": EXECUTOR,
        "workers": args.workers,
        "items": args.items,
        "seconds": seconds,
        "items_per_s": args.items / seconds,
        "p50_us": percentile(each, 50) / 1000.0,
        "p99_us": percentile(each, 99) / 1000.0,
    })


def percentile(sorted_values, p):
    """Nearest rank, as on the Java side."""
    rank = max(1, -(-p * len(sorted_values) // 100))
    return sorted_values[rank - 1]


def run_startup(args):
    # The harness times this interpreter from its spawn to this line's arrival; here, only the pool.
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as executor:
        executor.submit(noop).result()
        emit({
            "workload": "startup",
            "executor": EXECUTOR,
            "workers": args.workers,
            "seconds": time.perf_counter() - start,
        })


def run_startup_dask(args):
    from distributed import Client, LocalCluster

    start = time.perf_counter()
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True) as cluster:
        with Client(cluster) as client:
            client.submit(noop).result()
            emit({
                "workload": "startup",
                "executor": "python-dask",
                "workers": args.workers,
                "seconds": time.perf_counter() - start,
            })


def run_rss(args):
    with ProcessPoolExecutor(max_workers=args.workers) as executor:
        executor.submit(noop).result()
        time.sleep(1.0)
        # A private attribute, but the only way to reach the worker processes; stable since 3.2.
        workers = [rss_mb(pid) for pid in executor._processes]
        emit({
            "workload": "rss-worker",
            "executor": EXECUTOR,
            "workers": len(workers),
            "rss_mb": max(workers),
        })
        emit({
            "workload": "rss-coordinator",
            "executor": EXECUTOR,
            "workers": len(workers),
            "rss_mb": rss_mb(),
        })


def run_version(args):
    emit({
        "workload": "version",
        "executor": EXECUTOR,
        "version": sys.version.split()[0],
        "executable": sys.executable,
    })


WORKLOADS = {
    "hash": run_hash,
    "primes": run_primes,
    "wordcount-files": run_wordcount_files,
    "wordcount-lines": run_wordcount_lines,
    "download": run_download,
    "map1m": run_map1m,
    "payload": run_payload,
    "submit": run_submit,
    "latency": run_latency,
    "startup": run_startup,
    "startup-dask": run_startup_dask,
    "rss": run_rss,
    "version": run_version,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--items", type=int, default=1)
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--warmups", type=int, default=0)
    parser.add_argument("--chunksize", type=int, default=1)
    parser.add_argument("--n", type=int, default=20, help="hash: the argument of every hash_one call")
    parser.add_argument("--url", default="", help="download: the server's base URL, ending in /")
    parser.add_argument("--files", nargs="+", default=[], help="wordcount: the text files")
    args = parser.parse_args()
    WORKLOADS[args.workload](args)


if __name__ == "__main__":
    main()
