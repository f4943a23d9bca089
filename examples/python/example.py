"""Asks a Flotilla cluster which of a few numbers are prime, and prints the answers in input order.

    FLOTILLA_COORDINATOR=127.0.0.1:7600 FLOTILLA_TOKEN=... /usr/bin/python3 example.py
"""

import os

from flotilla_client import Client


def main():
    address = os.environ.get("FLOTILLA_COORDINATOR", "127.0.0.1:7600")
    numbers = [2, 15, 17, 91, 97, 7919, 1000003]
    with Client(address) as client:
        job = client.submit("isprime", numbers)
        print("job", job.id)
        for result in job.results():
            n = numbers[result.index]
            print(n, "is prime" if result.get() else "is not prime")


if __name__ == "__main__":
    main()
