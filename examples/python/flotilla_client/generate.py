"""Makes the gRPC stubs again from Flotilla's .proto files (import flotilla_client makes them when needed):

    cd examples/python && /usr/bin/python3 -m flotilla_client.generate
"""

from . import _stubs


def main():
    path = _stubs.generate()
    print("stubs of %s made in %s" % (", ".join(_stubs.PROTOS), path))


if __name__ == "__main__":
    main()
