"""FitStream from a C-core gRPC client: the same data as `resilience bench ols --grpc`.

    bash clients/python/generate.sh /tmp/resilience-py      # the stubs, once
    resilience serve regression --port 5103 &
    /usr/bin/python3 tests/bench/fitstream_python.py 127.0.0.1:5103 [--stubs /tmp/resilience-py]

Debian's python3-grpcio (the C-core library, which sends HTTP/2 DATA frames as large as the
server allows) streams n = 1,000,000 rows of y and 9 regressors (80 MB of doubles) in chunks
of 8,192 rows, as the CLI does, and prints one JSON line like the bench verbs: the median and
minimum of the whole call over the runs after a warm-up. Set against `bench ols --grpc` (the
.NET client), it separates the client's share of the transfer from the server's (README,
"Performance").
"""

import argparse
import json
import statistics
import sys
import time

import grpc
import numpy as np


def varint(value):
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def field(number, payload):
    """A length-delimited protobuf field."""
    return varint((number << 3) | 2) + varint(len(payload)) + payload


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("address", help="host:port of a running regression service")
    parser.add_argument("--stubs", default="/tmp/resilience-py", help="folder of clients/python/generate.sh")
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--k", type=int, default=10, help="parameters, intercept included")
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()
    sys.path.insert(0, args.stubs)
    from resilience.regression.v1 import regression_pb2 as pb  # noqa: E402

    rng = np.random.default_rng(20200123)
    columns = {f"x{j}": rng.standard_normal(args.n) for j in range(1, args.k)}
    columns["y"] = sum(columns.values()) + rng.standard_normal(args.n)
    names = list(columns)
    model = pb.FitRequest(
        dependent="y",
        regressors=[c for c in names if c != "y"],
        covariance_type=pb.COVARIANCE_TYPE_HC1,
    ).SerializeToString()
    rows = 8192
    # Each chunk is a FitRequest: the model in the first, then Column{name, packed values}.
    chunks = []
    for start in range(0, args.n, rows):
        body = b"".join(
            field(2, field(1, c.encode()) + field(2, columns[c][start : start + rows].astype("<f8").tobytes()))
            for c in names
        )
        chunks.append((model if start == 0 else b"") + body)

    channel = grpc.insecure_channel(args.address)
    fit_stream = channel.stream_unary(
        "/resilience.regression.v1.RegressionService/FitStream",
        request_serializer=lambda b: b,
        response_deserializer=pb.FitResponse.FromString,
    )
    times = []
    for i in range(args.warmup + args.runs):
        t = time.perf_counter()
        response = fit_stream(iter(chunks), timeout=600)
        if i >= args.warmup:
            times.append((time.perf_counter() - t) * 1000)
    print(
        json.dumps(
            {
                "bench": "fitstream-python",
                "n": args.n,
                "k": args.k,
                "bytes": sum(len(c) for c in chunks),
                "n_obs": response.model.n_obs,
                "median_ms": round(statistics.median(times), 4),
                "min_ms": round(min(times), 4),
                "max_ms": round(max(times), 4),
                "runs": args.runs,
            }
        )
    )


if __name__ == "__main__":
    main()
