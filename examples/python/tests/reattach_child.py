"""A client that the reattach test kills mid-stream: it submits a job of slow inputs, prints the job's id,
then one line per result as it reads them, in input order.

    reattach_child.py ADDRESS COUNT N      (token: FLOTILLA_TOKEN)

Output: "job <id>", then "result <position> <index> <value>" lines, each flushed as it is printed.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from flotilla_client import Client  # noqa: E402


def main():
    address, count, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with Client(address) as client:
        job = client.submit("pbkdf2", [n] * count)
        print("job", job.id, flush=True)
        for r in job.results(ordered=True):
            print("result", r.position, r.index, r.value if r.ok else "ERROR:" + str(r.error), flush=True)


if __name__ == "__main__":
    main()
