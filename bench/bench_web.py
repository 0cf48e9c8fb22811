"""Speed of predict_web.py's POST /predict: requests per second and latency.

    python -m bench.bench_web --model final_model.h5
    python -m bench.bench_web --model final_model_ensemble.h5 --baseline ../old-checkout

Starts predict_web.py on a free port with the given model, then POSTs two
images over and over, each request on a new connection as a browser or curl
makes it: a drawing (a 7 drawn 20 pixels wide on a white 280x280 pad, as the
page's pad sends it) and a photo (800x600 JPEG: the 4-digit number 2026 in
ballpoint on a sheet lying on a desk, drawn with bench/sheet_digits.py's
pieces), first from one client, then from N concurrent clients. Latency is
from connecting to having read the whole answer; 20 untimed requests warm the
server up first. --baseline DIR also serves DIR's predict_web.py (another
checkout) and alternates rounds of requests between the two, so both see the
same machine; the ratio is this checkout's median over the baseline's. Other
work running on the machine slows both; run it on an idle machine.
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

import numpy as np
from PIL import Image, ImageDraw

from bench import sheet_digits
from plumbing import cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROUNDS = 5  # rounds per measurement, alternating between the servers


def drawn_digit_png():
    """A 7 as drawn on the page's pad: dark strokes on white, 280x280."""
    img = Image.new("L", (280, 280), 255)
    ImageDraw.Draw(img).line([(80, 60), (200, 60), (120, 220)], fill=0, width=20, joint="curve")
    buffer = io.BytesIO()
    img.save(buffer, "PNG")
    return buffer.getvalue()


def number_photo_jpeg(number="2026", seed=2):
    """An 800x600 photo of `number` in ballpoint on a white sheet lying on a plain desk (seed 2: digits
    a person reads as 2026, looked at)."""
    rng = np.random.default_rng(seed)
    inks = [sheet_digits.draw_digit(int(d), rng, pen_ratio=0.08)[0] for d in number]  # one pen
    height = max(ink.shape[0] for ink in inks)
    gap = np.zeros((height, 40))
    row = [np.pad(ink, ((0, height - ink.shape[0]), (0, 0))) for ink in inks]
    ink = np.hstack([piece for digit in row for piece in (digit, gap)][:-1])
    sheet, _ = sheet_digits.make_sheet(ink, rng, "ballpoint", 0.92, ruled=False, size=(990, 700))
    sheet = Image.fromarray((sheet * 255).astype(np.uint8)).resize((600, 424), Image.BILINEAR)
    photo = Image.fromarray((sheet_digits.make_desk(rng, (600, 800), cluttered=False) * 255).astype(np.uint8))
    photo.paste(sheet, (100, 88))
    return sheet_digits.jpeg_bytes(photo)


def start_server(checkout, model):
    """checkout's predict_web.py on a free port: (process, host, port)."""
    proc = subprocess.Popen([sys.executable, os.path.join(checkout, "predict_web.py"), "--model", model,
                             "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            cwd=checkout)
    line = proc.stdout.readline()
    if not line.startswith("Serving on http://"):
        proc.wait()
        sys.exit(f"bench_web: error: {checkout}'s server did not start "
                 f"(run its predict_web.py --model {model} to see why)")
    host, port = line.strip()[len("Serving on http://"):].rstrip("/").rsplit(":", 1)
    return proc, host, int(port)


def timed_post(host, port, body):
    """One POST /predict on a new connection: seconds taken."""
    start = time.perf_counter()
    conn = http.client.HTTPConnection(host, port, timeout=60)
    conn.request("POST", "/predict", body, {"Content-Type": "application/octet-stream"})
    response = conn.getresponse()
    answer = json.loads(response.read())
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"POST /predict answered {response.status}: {answer}")
    return time.perf_counter() - start


def measure(servers, body, clients, requests):
    """`requests` POSTs per server from `clients` threads, in ROUNDS alternating rounds:
    {name: {req_per_s, median_ms, p95_ms}}."""
    latencies = {name: [] for name in servers}
    elapsed = dict.fromkeys(servers, 0.0)
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        for _ in range(ROUNDS):
            for name, (_, host, port) in servers.items():
                start = time.perf_counter()
                latencies[name] += pool.map(timed_post, [host] * (requests // ROUNDS), [port] * (requests // ROUNDS),
                                            [body] * (requests // ROUNDS))
                elapsed[name] += time.perf_counter() - start
    return {name: {"req_per_s": round(len(ms) / elapsed[name], 1),
                   "median_ms": round(1000 * statistics.median(ms), 1),
                   "p95_ms": round(1000 * statistics.quantiles(ms, n=20)[-1], 1)} for name, ms in latencies.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.bench_web", description=__doc__.splitlines()[0])
    cli.add_flag(parser, "model")
    parser.add_argument("--requests", type=int, default=100, metavar="N",
                        help="requests per measurement and server (default: 100)")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8], metavar="C",
                        help="numbers of concurrent clients to measure (default: 1 8)")
    parser.add_argument("--baseline", metavar="DIR", help="another checkout whose predict_web.py to compare with")
    args = parser.parse_args(argv)

    bodies = {"drawing (280x280 PNG, a 7)": drawn_digit_png(), "photo (800x600 JPEG, 2026)": number_photo_jpeg()}
    checkouts = {"this": ROOT, **({"baseline": args.baseline} if args.baseline else {})}
    servers = {}
    try:
        for name, checkout in checkouts.items():
            servers[name] = start_server(checkout, os.path.abspath(args.model))
        for body in bodies.values():
            for _, host, port in servers.values():
                for _ in range(20):
                    timed_post(host, port, body)
        results = [(image, clients, measure(servers, body, clients, args.requests))
                   for image, body in bodies.items() for clients in args.clients]
    finally:
        for proc, _, _ in servers.values():
            proc.terminate()
            proc.wait()
    print(f"POST /predict, model {args.model}" + (f", baseline {args.baseline}" if args.baseline else "") + "\n")
    print("| image | clients | server | req/s | median ms | p95 ms |" + (" median ratio |" if args.baseline else ""))
    print("|---|---:|---|---:|---:|---:|" + ("---:|" if args.baseline else ""))
    for image, clients, by_server in results:
        for name, r in by_server.items():
            ratio = f" {r['median_ms'] / by_server['baseline']['median_ms']:.2f} |" if args.baseline else ""
            print(f"| {image} | {clients} | {name} | {r['req_per_s']} | {r['median_ms']} | {r['p95_ms']} |{ratio}")


if __name__ == "__main__":
    main()
