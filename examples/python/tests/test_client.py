"""Tests of flotilla_client against a live cluster.

Environment: FLOTILLA_ADDRESS (host:port of the coordinator), FLOTILLA_TOKEN_A and FLOTILLA_TOKEN_B (two
clients' tokens; the coordinator must require tokens). The cluster needs the demo functions and at least
one worker; the cancel test expects few worker threads (2) so that most of its inputs are still waiting.

    cd examples/python && /usr/bin/python3 -m unittest discover -s tests -v
"""

import hashlib
import os
import selectors
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import grpc  # noqa: E402

from flotilla_client import CANCELLED, COMPLETED, Client, FlotillaError, ItemError, wordcount_pb2  # noqa: E402

ENV = ("FLOTILLA_ADDRESS", "FLOTILLA_TOKEN_A", "FLOTILLA_TOKEN_B")


def setUpModule():
    missing = [name for name in ENV if not os.environ.get(name)]
    if missing:
        raise RuntimeError("these tests run against a live cluster: set %s" % ", ".join(missing))


def is_prime(n):
    if n < 2:
        return False
    d = 2
    while d * d <= n:
        if n % d == 0:
            return False
        d += 1
    return True


class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.address = os.environ["FLOTILLA_ADDRESS"]
        cls.token_a = os.environ["FLOTILLA_TOKEN_A"]
        cls.a = Client(cls.address, cls.token_a)
        cls.b = Client(cls.address, os.environ["FLOTILLA_TOKEN_B"])
        cls.numbers = list(range(1, 201))
        cls.primes = cls.a.submit("isprime", cls.numbers)

    @classmethod
    def tearDownClass(cls):
        cls.a.close()
        cls.b.close()

    def assert_each_index_once(self, results, count):
        indices = sorted(r.index for r in results)
        self.assertEqual(indices, list(range(count)), "every input must have exactly one result")

    def test_functions_and_workers_are_listed(self):
        functions = {f.name: f for f in self.a.functions()}
        self.assertTrue({"isprime", "pbkdf2", "wordcount", "sha256"} <= set(functions), functions.keys())
        self.assertEqual(functions["isprime"].signature, "isprime(json integer) -> json boolean")
        self.assertEqual(functions["wordcount"].input_type, "flotilla.demo.v1.Text")
        workers = self.a.workers()
        self.assertGreaterEqual(len(workers), 1)
        self.assertGreaterEqual(sum(w.threads for w in workers), 1)

    def test_ordered_results_match_a_local_prime_check(self):
        results = list(self.primes.results(ordered=True))
        self.assertEqual([r.index for r in results], list(range(200)))
        self.assertEqual([r.position for r in results], list(range(200)))
        self.assertTrue(all(r.ok for r in results), [r for r in results if not r.ok][:3])
        self.assertEqual([r.value for r in results], [is_prime(n) for n in self.numbers])
        self.assertEqual(list(self.primes.values()), [is_prime(n) for n in self.numbers])

    def test_unordered_results_give_every_index_once(self):
        results = list(self.primes.results(ordered=False))
        self.assertEqual([r.position for r in results], list(range(200)))
        self.assert_each_index_once(results, 200)
        for r in results:
            self.assertEqual(r.value, is_prime(self.numbers[r.index]), r)
        # Reading on from a position gives the rest of the same completion order.
        self.assertEqual([r.index for r in self.primes.results(ordered=False, start=150)],
                         [r.index for r in results[150:]])

    def test_bad_input_is_refused_by_index_and_earlier_inputs_run(self):
        # A batch that leaves the inputs open leaves them open after its bad input.
        job = self.a.submit("isprime")
        with self.assertRaises(FlotillaError) as refused:
            job.send([2, 3, 4, "x", 5], end=False)
        self.assertEqual(refused.exception.code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("input 3 ", refused.exception.message)
        status = job.status()
        self.assertEqual(status.inputs_received, 3)
        self.assertFalse(status.inputs_closed)
        job.end_inputs()
        results = list(job.results())
        self.assertEqual([(r.index, r.value) for r in results], [(0, True), (1, True), (2, False)])
        self.assertEqual(job.status().state, COMPLETED)

    def test_a_bad_input_in_the_last_batch_ends_the_inputs_before_it(self):
        job = self.a.submit("isprime")
        with self.assertRaises(FlotillaError) as refused:
            job.send([2, 3, 4, "x", 5])
        self.assertIn("the job's inputs end at 3", refused.exception.message)
        status = job.status()
        self.assertEqual(status.inputs_received, 3)
        self.assertTrue(status.inputs_closed)
        results = list(job.results())
        self.assertEqual([(r.index, r.value) for r in results], [(0, True), (1, True), (2, False)])
        self.assertEqual(job.status().state, COMPLETED)

    def test_unknown_function_is_not_found(self):
        with self.assertRaises(FlotillaError) as refused:
            self.a.submit("no-such-function", [1])
        self.assertEqual(refused.exception.code, grpc.StatusCode.NOT_FOUND)
        self.assertIn("no-such-function", refused.exception.message)
        self.assertIn("isprime", refused.exception.message)

    def test_wrong_or_missing_token_is_unauthenticated(self):
        for token in ("wrong-token-0123456789abcdef", ""):
            with self.subTest(token=token), Client(self.address, token) as stranger:
                with self.assertRaises(FlotillaError) as refused:
                    stranger.functions()
                self.assertEqual(refused.exception.code, grpc.StatusCode.UNAUTHENTICATED)
                with self.assertRaises(FlotillaError) as refused:
                    stranger.job(self.primes.id)
                self.assertEqual(refused.exception.code, grpc.StatusCode.UNAUTHENTICATED)

    def test_another_token_cannot_see_the_job(self):
        with self.assertRaises(FlotillaError) as refused:
            self.b.job(self.primes.id)
        self.assertEqual(refused.exception.code, grpc.StatusCode.NOT_FOUND)
        self.assertNotIn(self.primes.id, [j.job_id for j in self.b.jobs()])
        self.assertIn(self.primes.id, [j.job_id for j in self.a.jobs()])

    def test_same_key_returns_the_same_job_without_duplicates(self):
        key = "py-idem-%d" % time.time_ns()
        numbers = list(range(1000, 1100))
        first = self.a.submit("isprime", numbers[:20], key=key, end=False)
        self.assertFalse(first.existing)
        # The same submission again, whole this time: it finds the job and sends only the inputs it lacks
        # (in small batches, so that they take several SendInputs streams).
        again = self.a.submit("isprime", numbers, key=key, batch_size=3)
        self.assertTrue(again.existing)
        self.assertEqual(again.id, first.id)
        once_more = self.a.submit("isprime", numbers, key=key)
        self.assertEqual(once_more.id, first.id)
        status = once_more.status()
        self.assertEqual(status.inputs_received, 100)
        self.assertTrue(status.inputs_closed)
        results = list(first.results())
        self.assertEqual([r.index for r in results], list(range(100)))
        self.assertEqual([r.value for r in results], [is_prime(n) for n in numbers])
        self.assertEqual([j.job_id for j in self.a.jobs() if j.idempotency_key == key], [first.id])

    def test_item_errors_are_results_and_values_raises_the_first(self):
        job = self.a.submit("pbkdf2", [1, 500, 2, -1])
        results = list(job.results())
        self.assertEqual([r.ok for r in results], [True, False, True, False])
        self.assertIn("IllegalArgumentException", results[1].error.type)
        self.assertEqual(results[1].error.index, 1)
        with self.assertRaises(ItemError) as raised:
            list(job.values())
        self.assertEqual(raised.exception.index, 1)
        self.assertEqual(job.status().failed, 2)

    def test_cancel_drops_waiting_inputs_and_every_input_gets_one_result(self):
        # One batch: the chunks already running stop at their next input, and the rest never start.
        job = self.a.submit("pbkdf2", [30] * 40)
        stream = job.results(ordered=False)
        first = next(stream)
        status = job.cancel()
        self.assertTrue(status.inputs_closed)
        results = [first] + list(stream)  # the stream ends once every input has its result
        self.assert_each_index_once(results, 40)
        cancelled = [r for r in results if not r.ok and r.error.type == "Cancelled"]
        self.assertTrue(cancelled, "no input was cancelled: %s" % results)
        self.assertTrue(all(r.ok or r.error.type == "Cancelled" for r in results), results)
        status = job.wait(timeout=30)  # at once: the stream ended because every input had its result
        self.assertEqual(status.state, CANCELLED)
        self.assertEqual(status.cancelled, len(cancelled))
        self.assertEqual(status.succeeded + status.cancelled, 40)

    def test_short_deadline_reopens_the_results_stream(self):
        with Client(self.address, self.token_a, timeout=1.0) as hasty:
            job = hasty.submit("pbkdf2", [30] * 8, batch_size=1)
            started = time.monotonic()
            stream = job.results()
            results = list(stream)
            elapsed = time.monotonic() - started
        self.assertEqual([r.index for r in results], list(range(8)))
        self.assertEqual(len({r.value for r in results}), 1)
        # Each call lasts at most the 1 s deadline, so a read this long must have opened the stream again.
        self.assertGreater(elapsed, 1.0, "the job ran too fast to outlive a deadline")
        self.assertGreaterEqual(stream.reopened, 1)

    def test_reattach_after_the_client_is_killed_mid_stream(self):
        count = 60
        env = dict(os.environ, FLOTILLA_TOKEN=self.token_a, PYTHONUNBUFFERED="1")
        child = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "reattach_child.py"), self.address, str(count), "20"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        try:
            lines, unfinished = self.read_lines(child, lambda ls: sum(l.startswith("result ") for l in ls) >= 5, 120)
        finally:
            child.kill()  # SIGKILL: no goodbye to the coordinator
            child.wait(30)
        rest = (unfinished + child.stdout.read()).decode("utf-8", "replace")
        child.stdout.close()
        lines += rest.split("\n")[:-1]  # the last piece is a line the child did not finish, if any
        job_ids = [l.split()[1] for l in lines if l.startswith("job ")]
        self.assertEqual(len(job_ids), 1, lines)
        seen = []
        for line in lines:
            if line.startswith("result "):
                _, position, index, value = line.split(" ", 3)
                self.assertEqual(int(position), len(seen), line)
                self.assertFalse(value.startswith("ERROR:"), line)
                seen.append(int(index))
        self.assertGreaterEqual(len(seen), 5)
        self.assertLess(len(seen), count, "the child read every result before it was killed")

        job = self.a.job(job_ids[0])
        rest = list(job.results(start=len(seen)))
        self.assertEqual([r.position for r in rest], list(range(len(seen), count)))
        self.assertTrue(all(r.ok for r in rest), rest)
        union = seen + [r.index for r in rest]
        self.assertEqual(sorted(union), list(range(count)), "every index exactly once")
        self.assertEqual(job.status().state, COMPLETED)

    def read_lines(self, process, enough, timeout):
        """Complete lines the process prints until ``enough(lines)``, and the bytes of a line it has not
        finished; fails if it ends first or takes longer than ``timeout``."""
        deadline = time.monotonic() + timeout
        lines, pending = [], b""
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while not enough(lines):
                left = deadline - time.monotonic()
                if left <= 0:
                    self.fail("no result lines after %ss; the child printed: %s" % (timeout, lines + [pending]))
                if not selector.select(left):
                    continue
                chunk = os.read(process.stdout.fileno(), 65536)
                if not chunk:
                    self.fail("the child ended early (exit %s): %s" % (process.wait(), lines + [pending]))
                pending += chunk
                *complete, pending = pending.split(b"\n")
                lines += [l.decode("utf-8", "replace") for l in complete]
        return lines, pending

    def test_wordcount_takes_and_gives_protobuf_messages(self):
        texts = [wordcount_pb2.Text(text="the cat and the hat", top=2), wordcount_pb2.Text(text="")]
        counts = list(self.a.submit("wordcount", texts).values())
        self.assertIsInstance(counts[0], wordcount_pb2.WordCounts)
        self.assertEqual([(w.word, w.count) for w in counts[0].words], [("the", 2), ("and", 1)])
        self.assertEqual(counts[0].total, 5)
        self.assertEqual((list(counts[1].words), counts[1].total), ([], 0))
        with self.assertRaises(TypeError) as raised:
            self.a.submit("wordcount", [wordcount_pb2.WordCount(word="x")])
        self.assertEqual(raised.exception.job.status().state, CANCELLED, "submit leaves no job open")

    def test_sha256_takes_and_gives_bytes(self):
        inputs = [b"", b"abc", bytes(range(256)) * 40]
        digests = list(self.a.submit("sha256", inputs).values())
        self.assertEqual(digests, [hashlib.sha256(data).digest() for data in inputs])
        with self.assertRaises(TypeError):
            self.a.submit("sha256", ["not bytes"])


if __name__ == "__main__":
    unittest.main()
