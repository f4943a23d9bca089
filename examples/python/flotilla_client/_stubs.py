"""Makes the Python stubs of Flotilla's .proto files with grpc_tools.protoc, into ``_gen`` (git-ignored;
never edit them): at first import when they are missing or were made from other .proto contents, or on
demand with ``python3 -m flotilla_client.generate``.

The .proto files are found at ``proto/src/main/protobuf`` of the repository this package sits in, or in
the directory named by the environment variable ``FLOTILLA_PROTO_DIR``.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
GEN_DIR = os.path.join(PACKAGE_DIR, "_gen")
STAMP = ".stamp"
PROTOS = ("flotilla/v1/jobs.proto", "flotilla/demo/v1/wordcount.proto")


def proto_dir():
    """The directory the .proto paths in PROTOS are relative to."""
    configured = os.environ.get("FLOTILLA_PROTO_DIR")
    if configured:
        return os.path.abspath(configured)
    return os.path.normpath(os.path.join(PACKAGE_DIR, "..", "..", "..", "proto", "src", "main", "protobuf"))


def _fingerprint(root):
    """A digest of the .proto files' contents, or None when they are not there."""
    digest = hashlib.sha256()
    for name in PROTOS:
        path = os.path.join(root, name)
        if not os.path.isfile(path):
            return None
        digest.update(name.encode() + b"\0")
        with open(path, "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()


def _current_stamp():
    try:
        with open(os.path.join(GEN_DIR, STAMP)) as f:
            return f.read().strip()
    except OSError:
        return None


def generate(root=None):
    """Makes the stubs afresh from the .proto files under ``root`` (default: :func:`proto_dir`)."""
    root = root or proto_dir()
    fingerprint = _fingerprint(root)
    if fingerprint is None:
        raise FileNotFoundError(
            "Flotilla's .proto files (%s) are not under %s; set FLOTILLA_PROTO_DIR to the directory that holds"
            " them" % (", ".join(PROTOS), root))
    try:
        import grpc_tools  # noqa: F401  (only to give a clear message when it is missing)
    except ImportError as e:
        raise ImportError(
            "grpc_tools is needed to make the stubs: install python3-grpc-tools (Debian/Ubuntu) or"
            " grpcio-tools") from e
    # Made in a scratch directory beside the final one, then renamed into place, so that processes
    # importing at the same time never see half a set of stubs.
    scratch = tempfile.mkdtemp(prefix=".gen-", dir=PACKAGE_DIR)
    try:
        command = [sys.executable, "-m", "grpc_tools.protoc", "-I", root,
                   "--python_out=" + scratch, "--grpc_python_out=" + scratch] + list(PROTOS)
        run = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
        if run.returncode != 0:
            raise RuntimeError("protoc failed (%s):\n%s" % (" ".join(command), run.stdout))
        with open(os.path.join(scratch, STAMP), "w") as f:
            f.write(fingerprint + "\n")
        old = None
        if os.path.isdir(GEN_DIR):
            old = tempfile.mkdtemp(prefix=".gen-old-", dir=PACKAGE_DIR)
            try:
                os.rename(GEN_DIR, os.path.join(old, "_gen"))
            except FileNotFoundError:
                pass  # another process moved it first
        try:
            os.rename(scratch, GEN_DIR)
        except OSError:
            # Another process put its stubs in place first; they are as good as these if the stamp agrees.
            if _current_stamp() != fingerprint:
                raise
        if old:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return GEN_DIR


def ensure():
    """Makes the stubs if they are missing or stale; returns the directory to put on sys.path."""
    fingerprint = _fingerprint(proto_dir())
    stamp = _current_stamp()
    if stamp is not None and (fingerprint is None or fingerprint == stamp):
        return GEN_DIR  # up to date, or no .proto files to compare with (an installed copy)
    return generate()
