"""A Python client of Flotilla's job service.

    from flotilla_client import Client
    with Client("127.0.0.1:7600") as client:            # token: FLOTILLA_TOKEN, or token=...
        job = client.submit("isprime", [17, 18, 19])
        for r in job.results():                         # in input order; ordered=False: as completed
            print(r.index, r.value if r.ok else r.error)

The gRPC stubs are made from the repository's .proto files on first import (see _stubs.py).
"""

import sys

try:
    import grpc  # noqa: F401
except ImportError as e:
    raise ImportError("flotilla_client needs gRPC for Python: install python3-grpcio (Debian/Ubuntu) or grpcio") from e

from . import _stubs

_gen = _stubs.ensure()
if _gen not in sys.path:
    sys.path.insert(0, _gen)

from flotilla.v1 import jobs_pb2  # noqa: E402
from flotilla.demo.v1 import wordcount_pb2  # noqa: E402  (registers the demo's message types)

from .client import (  # noqa: E402
    CANCELLED,
    COMPLETED,
    RUNNING,
    Client,
    FlotillaError,
    ItemError,
    Job,
    Result,
    ResultStream,
)

__all__ = [
    "Client", "Job", "Result", "ResultStream", "FlotillaError", "ItemError",
    "RUNNING", "COMPLETED", "CANCELLED", "jobs_pb2", "wordcount_pb2",
]
