"""Speed of predict_web.py's POST /predict: requests per second and latency.

    python -m bench.bench_web --model final_model.h5
    python -m bench.bench_web --model final_model.h5 --requests 500 --clients 1 8

Starts predict_web.py on a free port with the given model, then POSTs the same
drawn-digit PNG (a 7 drawn 20 pixels wide on a white 280x280 pad, as the page
sends it) over and over: first from one client, then from N concurrent
clients, each request on a new connection as a browser or curl makes it.
Latency is from connecting to having read the whole answer. Reports, for each
number of clients, requests per second and the median and 95th-percentile
latency; 20 untimed requests warm the server up first. Other work running on
the machine slows it; run it on an idle machine.
"""
import argparse
import concurrent.futures
import http.client
import io
import json
import os
import statistics
import subprocess
import sys
import time

from PIL import Image, ImageDraw

from plumbing import cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def drawn_digit_png():
    """A 7 as drawn on the page's pad: dark strokes on white, 280x280."""
    img = Image.new("L", (280, 280), 255)
    ImageDraw.Draw(img).line([(80, 60), (200, 60), (120, 220)], fill=0, width=20, joint="curve")
    buffer = io.BytesIO()
    img.save(buffer, "PNG")
    return buffer.getvalue()


def start_server(model):
    """predict_web.py on a free port: (process, host, port)."""
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "predict_web.py"), "--model", model, "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    if not line.startswith("Serving on http://"):
        proc.wait()
        sys.exit(f"bench_web.py: error: the server did not start (run predict_web.py --model {model} to see why)")
    host, port = line.strip()[len("Serving on http://"):].rstrip("/").rsplit(":", 1)
    return proc, host, int(port)


def timed_post(host, port, png):
    """One POST /predict on a new connection: seconds taken."""
    start = time.perf_counter()
    conn = http.client.HTTPConnection(host, port, timeout=60)
    conn.request("POST", "/predict", png, {"Content-Type": "image/png"})
    response = conn.getresponse()
    answer = json.loads(response.read())
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"POST /predict answered {response.status}: {answer}")
    return time.perf_counter() - start


def measure(host, port, png, clients, requests):
    """requests POSTs from `clients` threads: {clients, requests, req_per_s, median_ms, p95_ms}."""
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        latencies = list(pool.map(lambda _: timed_post(host, port, png), range(requests)))
    elapsed = time.perf_counter() - start
    return {"clients": clients, "requests": requests, "req_per_s": round(requests / elapsed, 1),
            "median_ms": round(1000 * statistics.median(latencies), 1),
            "p95_ms": round(1000 * statistics.quantiles(latencies, n=20)[-1], 1)}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.bench_web", description=__doc__.splitlines()[0])
    cli.add_flag(parser, "model")
    parser.add_argument("--requests", type=int, default=300, metavar="N",
                        help="requests per measurement (default: 300)")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8], metavar="C",
                        help="numbers of concurrent clients to measure (default: 1 8)")
    args = parser.parse_args(argv)

    png = drawn_digit_png()
    proc, host, port = start_server(args.model)
    try:
        for _ in range(20):
            timed_post(host, port, png)
        results = [measure(host, port, png, clients, args.requests) for clients in args.clients]
    finally:
        proc.terminate()
        proc.wait()
    print(f"POST /predict, a {len(png)}-byte drawn-digit PNG, model {args.model}\n")
    print("| clients | requests | req/s | median ms | p95 ms |")
    print("|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['clients']} | {r['requests']} | {r['req_per_s']} | {r['median_ms']} | {r['p95_ms']} |")


if __name__ == "__main__":
    main()
