"""A client of a Flotilla coordinator's job service (flotilla/v1/jobs.proto).

Every call carries a deadline (the client's ``timeout``). A results stream that outlives it, or that
the network breaks, is opened again from the last position read, so a long job is read with short
deadlines and nothing is lost or repeated.
"""

import json
import os
import time

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, symbol_database

from flotilla.v1 import jobs_pb2, jobs_pb2_grpc

RUNNING = jobs_pb2.RUNNING
COMPLETED = jobs_pb2.COMPLETED
CANCELLED = jobs_pb2.CANCELLED

#: Limits of one InputBatch message; the coordinator refuses messages over 4 MiB by default.
BATCH_ITEMS = 1000
BATCH_BYTES = 1 << 20
#: Batches per SendInputs stream: a stream that breaks is resent from the job's count of inputs, so
#: the client holds at most this many batches of inputs that the coordinator may not have yet.
WINDOW_BATCHES = 8

_RESUMABLE = (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNAVAILABLE)


class FlotillaError(Exception):
    """A call the coordinator (or the network) refused: ``code`` is a grpc.StatusCode."""

    def __init__(self, code, message):
        super().__init__(code, message)
        self.code = code
        self.message = message

    @classmethod
    def of(cls, rpc_error):
        return cls(rpc_error.code(), rpc_error.details() or "")

    def __str__(self):
        return "%s: %s" % (self.code.name, self.message)


class ItemError(Exception):
    """The error an input's function raised on the worker ("Cancelled" for an input dropped by cancel)."""

    def __init__(self, index, type, message, traceback=""):
        super().__init__(index, type, message)
        self.index = index
        self.type = type
        self.message = message
        self.traceback = traceback

    def __str__(self):
        return "input %d: %s: %s" % (self.index, self.type, self.message)


class Result:
    """One input's outcome: ``value`` (decoded) or ``error`` (an ItemError); ``position`` in the stream."""

    __slots__ = ("index", "position", "value", "error")

    def __init__(self, index, position, value=None, error=None):
        self.index = index
        self.position = position
        self.value = value
        self.error = error

    @property
    def ok(self):
        return self.error is None

    def get(self):
        """The value, or raises the item's error."""
        if self.error is not None:
            raise self.error
        return self.value

    def __repr__(self):
        outcome = "value=%r" % (self.value,) if self.ok else "error=%s" % (self.error,)
        return "Result(index=%d, position=%d, %s)" % (self.index, self.position, outcome)


class _Codec:
    """How a function's inputs are encoded and its results decoded, from its FunctionInfo."""

    def __init__(self, info, encode=None, decode=None):
        self.info = info
        kind_in = info.input if info is not None else jobs_pb2.ENCODING_UNSPECIFIED
        kind_out = info.output if info is not None else jobs_pb2.ENCODING_UNSPECIFIED
        self.encode = encode or self._encoder(kind_in)
        self.decode = decode or self._decoder(kind_out)

    def _encoder(self, kind):
        if kind == jobs_pb2.PROTOBUF:
            expected = self.info.input_type

            def encode(value):
                if isinstance(value, (bytes, bytearray, memoryview)):
                    return bytes(value)
                if value.DESCRIPTOR.full_name != expected:
                    raise TypeError("%s takes %s messages, not %s" % (self.info.name, expected, value.DESCRIPTOR.full_name))
                return value.SerializeToString()
            return encode
        if kind == jobs_pb2.BYTES:
            def encode(value):
                if not isinstance(value, (bytes, bytearray, memoryview)):
                    raise TypeError("%s takes bytes, not %s" % (self.info.name, type(value).__name__))
                return bytes(value)
            return encode

        def encode(value):  # JSON, and functions this client has no signature of
            if isinstance(value, (bytes, bytearray, memoryview)):
                return bytes(value)  # already encoded
            return json.dumps(value).encode("utf-8")
        return encode

    def _decoder(self, kind):
        if kind == jobs_pb2.PROTOBUF:
            return _message_class(self.info.output_type, self.info.descriptors).FromString
        if kind == jobs_pb2.JSON:
            return lambda data: json.loads(data.decode("utf-8"))
        return bytes


def _message_class(full_name, descriptors):
    """The Python class of a message type: the compiled stub's, else one built from the descriptors."""
    try:
        return symbol_database.Default().GetSymbol(full_name)
    except KeyError:
        pass
    pool = descriptor_pool.DescriptorPool()
    for f in descriptor_pb2.FileDescriptorSet.FromString(descriptors).file:
        pool.Add(f)
    descriptor = pool.FindMessageTypeByName(full_name)
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(descriptor)
    return message_factory.MessageFactory(pool).GetPrototype(descriptor)


def _read_file(path):
    if path is None:
        return None
    with open(path, "rb") as f:
        return f.read()


class Client:
    """A connection to a coordinator's job service. Use it as a context manager, or call close().

    :param address: host:port of the coordinator's gRPC port
    :param token: the client's token; default the environment variable FLOTILLA_TOKEN; "" for none
    :param timeout: the deadline of every call, in seconds (a results stream is reopened when it passes)
    :param root_certificates: a PEM file of the CA to trust; given, the channel speaks TLS
    :param certificate_chain: with private_key, PEM files of this client's own certificate, for mutual TLS
    """

    def __init__(self, address, token=None, timeout=30.0, *, root_certificates=None,
                 certificate_chain=None, private_key=None):
        self.address = address
        self.timeout = timeout
        token = os.environ.get("FLOTILLA_TOKEN", "") if token is None else token
        self._metadata = (("authorization", "Bearer " + token),) if token else ()
        options = [("grpc.max_receive_message_length", 64 << 20)]
        if root_certificates or certificate_chain:
            credentials = grpc.ssl_channel_credentials(
                _read_file(root_certificates), _read_file(private_key), _read_file(certificate_chain))
            self._channel = grpc.secure_channel(address, credentials, options)
        else:
            self._channel = grpc.insecure_channel(address, options)
        self._stub = jobs_pb2_grpc.JobServiceStub(self._channel)
        self._functions = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._channel.close()

    def _call(self, method, request, timeout=None):
        try:
            return method(request, timeout=timeout or self.timeout, metadata=self._metadata)
        except grpc.RpcError as e:
            raise FlotillaError.of(e) from None

    def functions(self):
        """The functions the cluster can run (FunctionInfo messages)."""
        reply = self._call(self._stub.ListFunctions, jobs_pb2.ListFunctionsRequest())
        self._functions = {f.name: f for f in reply.functions}
        return list(reply.functions)

    def function(self, name):
        """The FunctionInfo of a function, or None if the cluster does not list it."""
        if self._functions is None or name not in self._functions:
            self.functions()
        return self._functions.get(name)

    def submit(self, function, inputs=None, *, key=None, end=True, batch_size=BATCH_ITEMS, encode=None, decode=None):
        """Starts a job of ``function`` and sends it ``inputs`` (any iterable), closing them if ``end``.

        With ``key``, a second submission with the same key returns the first job (``job.existing``)
        and sends only the inputs it does not have yet. Inputs are encoded by the function's signature:
        JSON values (json.dumps), bytes, or the generated message classes; bytes are always sent as they
        are. ``encode``/``decode`` replace the codec: callables value -> bytes and bytes -> value.
        Without ``inputs`` the job waits for Job.send. ``batch_size``: see Job.send.

        If sending the inputs fails (an input that cannot be encoded, or that the function cannot take),
        a job this call made is cancelled, so that it does not stay open, and the error is raised with
        the job as its ``job`` attribute (the inputs before the bad one still have their results).
        """
        status = self._call(self._stub.Submit, jobs_pb2.SubmitRequest(function=function, idempotency_key=key or ""))
        job = Job(self, status, _Codec(self.function(function), encode, decode))
        if inputs is not None:
            try:
                job.send(inputs, end=end, offset=0, batch_size=batch_size)
            except Exception as e:
                e.job = job
                if not job.existing:
                    try:
                        job.cancel()
                    except FlotillaError:
                        pass  # the error being raised says more
                raise
        return job

    def job(self, job_id, *, encode=None, decode=None):
        """A job made earlier with this client's token, found by its id (to read on after a restart)."""
        status = self._call(self._stub.GetJob, jobs_pb2.JobRequest(job_id=job_id))
        return Job(self, status, _Codec(self.function(status.function), encode, decode))

    def jobs(self):
        """This token's jobs (JobStatus messages), oldest first."""
        return list(self._call(self._stub.ListJobs, jobs_pb2.ListJobsRequest()).jobs)

    def workers(self):
        """The cluster's workers (WorkerInfo messages)."""
        return list(self._call(self._stub.ListWorkers, jobs_pb2.ListWorkersRequest()).workers)


class Job:
    """A job on the coordinator. ``existing`` says whether Submit found it by its idempotency key."""

    def __init__(self, client, status, codec):
        self._client = client
        self._codec = codec
        self.id = status.job_id
        self.function = status.function
        self.existing = status.existing

    def __repr__(self):
        return "Job(%s, %s)" % (self.id, self.function)

    def status(self):
        """The job's JobStatus: state, counts of inputs and results."""
        return self._client._call(self._client._stub.GetJob, jobs_pb2.JobRequest(job_id=self.id))

    def cancel(self):
        """Drops the inputs that have not started (their results are "Cancelled" errors); returns JobStatus."""
        return self._client._call(self._client._stub.Cancel, jobs_pb2.JobRequest(job_id=self.id))

    def wait(self, timeout=None, poll=0.05):
        """Polls until the job has finished (every input has its result); returns its JobStatus.
        Raises TimeoutError after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            status = self.status()
            if status.state != RUNNING and status.pending == 0:
                return status
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError("job %s still running after %ss" % (self.id, timeout))
            time.sleep(poll)

    def send(self, inputs, end=True, *, offset=None, batch_size=BATCH_ITEMS):
        """Sends inputs, in batches, and closes the job's inputs if ``end``; returns the JobStatus.

        ``offset`` is the job index of the first of ``inputs``; those the job already has are skipped, so
        that sending the same inputs again resumes where the job's inputs end. Default: the inputs are
        appended after those the job has. A stream that breaks or outlives the deadline is resumed from
        the job's count of inputs. An input the function cannot take raises FlotillaError
        (INVALID_ARGUMENT, naming its index); those before it are taken, and the inputs stay open.

        ``batch_size``: most inputs per InputBatch message. The coordinator cuts each batch it gets into
        chunks for the workers: for a few slow inputs, small batches (even 1) spread them over the
        worker threads at once, and let a cancel drop more of them.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1, not %r" % (batch_size,))
        status = self.status()
        received = status.inputs_received
        if offset is None:
            offset = received
        elif offset > received:
            raise ValueError("job %s has %d inputs; inputs from %d would leave a gap" % (self.id, received, offset))
        items = _Pushback(inputs)
        for _ in range(received - offset):
            if items.take() is _END:
                break
        next_index = received
        while True:
            window, exhausted = self._window(items, batch_size)
            if not window and not end:
                return status
            if not window and status.inputs_closed:
                return status  # nothing left to send and nothing to close
            status = self._send_window(next_index, window, end and exhausted)
            next_index += sum(len(batch) for batch in window)
            if exhausted:
                return status

    def end_inputs(self):
        """Closes the job's inputs: no more follow. Returns the JobStatus."""
        return self.send((), end=True)

    def _window(self, items, batch_size):
        """Up to WINDOW_BATCHES batches of encoded inputs, as lists; and whether the inputs ran out."""
        batches, batch, size = [], [], 0
        while True:
            value = items.take()
            if value is _END:
                if batch:
                    batches.append(batch)
                return batches, True
            data = self._codec.encode(value)
            if batch and (len(batch) >= batch_size or size + len(data) > BATCH_BYTES):
                batches.append(batch)
                batch, size = [], 0
                if len(batches) >= WINDOW_BATCHES:
                    items.put_back(value)
                    return batches, False
            batch.append(data)
            size += len(data)

    def _send_window(self, first, batches, end):
        """Sends batches as one SendInputs stream; if it breaks or outlives the deadline, asks the job
        how many inputs it has and sends the rest again."""
        client = self._client
        resuming = False  # a refusal of the batch's index is ours to settle only after a broken stream
        broken_since = None
        while True:
            def requests(first=first, batches=batches):
                if not batches:
                    yield jobs_pb2.InputBatch(job_id=self.id, first_index=first, end_of_inputs=end)
                at = first
                for i, batch in enumerate(batches):
                    yield jobs_pb2.InputBatch(job_id=self.id if i == 0 else "", first_index=at, items=batch,
                                              end_of_inputs=end and i == len(batches) - 1)
                    at += len(batch)
            try:
                return client._stub.SendInputs(requests(), timeout=client.timeout, metadata=client._metadata)
            except grpc.RpcError as e:
                code = e.code()
                if code not in _RESUMABLE and not (resuming and code == grpc.StatusCode.FAILED_PRECONDITION):
                    raise FlotillaError.of(e) from None
                if code == grpc.StatusCode.UNAVAILABLE:
                    broken_since = broken_since or time.monotonic()
                    _back_off(broken_since, client.timeout, e)
                status = self._status_retrying()
                taken = status.inputs_received - first
                total = sum(len(b) for b in batches)
                if taken < 0 or taken > total or (code == grpc.StatusCode.FAILED_PRECONDITION and taken == 0):
                    raise FlotillaError.of(e) from None
                if taken == total and (not end or status.inputs_closed):
                    return status
                if taken > 0:
                    broken_since = None
                resuming = True
                first, batches = status.inputs_received, _drop(batches, taken)

    def _status_retrying(self):
        started = time.monotonic()
        while True:
            try:
                return self._client._stub.GetJob(jobs_pb2.JobRequest(job_id=self.id), timeout=self._client.timeout,
                                                 metadata=self._client._metadata)
            except grpc.RpcError as e:
                if e.code() not in _RESUMABLE:
                    raise FlotillaError.of(e) from None
                _back_off(started, self._client.timeout, e)

    def results(self, ordered=True, start=0):
        """An iterator of Result, in input order or (``ordered=False``) as completed, after the first
        ``start`` of that order; it ends once every input has its result. Item errors are Results too."""
        return ResultStream(self, ordered, start)

    def values(self, ordered=True):
        """The decoded values in input order (or as completed); raises the first item's error, as
        concurrent.futures' map does."""
        for r in self.results(ordered):
            yield r.get()


class ResultStream:
    """The results of a job from a position on. ``position``: how many of that order have been read;
    ``reopened``: how often the stream was opened again after a deadline or a broken connection."""

    def __init__(self, job, ordered, start):
        self.job = job
        self.ordered = ordered
        self.position = start
        self.reopened = 0
        self._gen = self._read()

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._gen)

    def close(self):
        self._gen.close()

    def _read(self):
        client, job = self.job._client, self.job
        broken_since = None
        while True:
            request = jobs_pb2.ResultsRequest(job_id=job.id, ordered=self.ordered, **{"from": self.position})
            call = client._stub.Results(request, timeout=client.timeout, metadata=client._metadata)
            try:
                for batch in call:
                    broken_since = None
                    for r in batch.results:
                        self.position = r.position + 1
                        yield self._result(r)
                return
            except grpc.RpcError as e:
                code = e.code()
                if code == grpc.StatusCode.UNAVAILABLE:
                    broken_since = broken_since or time.monotonic()
                    _back_off(broken_since, client.timeout, e)
                elif code != grpc.StatusCode.DEADLINE_EXCEEDED:
                    raise FlotillaError.of(e) from None
                self.reopened += 1
            finally:
                call.cancel()

    def _result(self, r):
        if r.HasField("error"):
            error = ItemError(r.index, r.error.type, r.error.message, r.error.traceback)
            return Result(r.index, r.position, error=error)
        return Result(r.index, r.position, value=self.job._codec.decode(r.value))


_END = object()


class _Pushback:
    """An iterator that can be given back the last item it gave."""

    def __init__(self, iterable):
        self._items = iter(iterable)
        self._held = _END

    def take(self):
        if self._held is not _END:
            value, self._held = self._held, _END
            return value
        return next(self._items, _END)

    def put_back(self, value):
        self._held = value


def _drop(batches, n):
    """The batches without their first n items."""
    out = []
    for batch in batches:
        if n >= len(batch):
            n -= len(batch)
            continue
        out.append(batch[n:])
        n = 0
    return out


def _back_off(since, limit, error):
    """Waits a little before trying again, or raises the error once it has lasted ``limit`` seconds."""
    waited = time.monotonic() - since
    if waited >= limit:
        raise FlotillaError.of(error) from None
    time.sleep(min(1.0, 0.05 + waited / 4))
