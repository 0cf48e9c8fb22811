"""Write a number in the browser: a local web page on the final model.

    python predict_web.py                  # then open the printed URL
    python predict_web.py --port 0         # any free port

The page (web/) sends what you draw, or an image file, to POST /predict, which
reads it exactly as predict_image.py reads a file and answers what
`predict_image.py --json` prints for it ({"number": "2026", "digits": [{"digit",
"probability", "box", "probabilities"}, ...]}, without "path"), plus the page's
extras: "size" [width, height] of the image and "inputs", the 28x28 image the
model saw for each digit (PNG data URLs). POST /predict?explain=1 adds "explain",
for each digit the pixels behind the answer and the first layer's feature maps.
GET /model answers {"model": "final_model.h5"}: the model file it serves, which the page names.
Errors are {"error": "one line"} with a 4xx status.
"""
import argparse
import base64
import binascii
import io
import json
import os
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import numpy as np
from PIL import Image

from plumbing.cli import UserError
from plumbing import cli
from network import saved_model

# handwriting (scikit-image, SciPy) and network.view (Keras) are imported where they are used; start()
# imports them before serving, so --help and a mistake answer at once and no request waits for them.

WEB_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "web")
# The page's own files, by URL path: nothing else on disk is ever served.
STATIC_FILES = {"/": "index.html", "/index.html": "index.html", "/app.js": "app.js", "/style.css": "style.css"}
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8"}
# A phone photo is a few MB; refuse anything much larger before reading it.
MAX_BODY_BYTES = 10 * 1024 * 1024
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff",
                    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:"}


# ---------------------------------------------------------------- predicting

class BadRequest(Exception):
    """A request /predict cannot use; str() is the one-line reason."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def image_bytes_from_json(body):
    """The image file in a JSON body {"image": "data:image/...;base64,..."}."""
    try:
        request = json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise BadRequest(HTTPStatus.BAD_REQUEST, f"malformed JSON ({e})")
    data_url = request.get("image") if isinstance(request, dict) else None
    if not isinstance(data_url, str):
        raise BadRequest(HTTPStatus.BAD_REQUEST, 'JSON body must be {"image": "data:image/png;base64,..."}')
    header, _, payload = data_url.partition(",")
    if not (header.startswith("data:") and header.endswith(";base64")):
        raise BadRequest(HTTPStatus.BAD_REQUEST, '"image" must be a base64 data URL (data:image/png;base64,...)')
    try:
        return base64.b64decode(payload, validate=True)
    except binascii.Error as e:
        raise BadRequest(HTTPStatus.BAD_REQUEST, f'"image": bad base64 ({e})')


def png_data_url(pixels, mode="L"):
    """A float image in [0, 1] ((28, 28) gray, or (h, w, 4) RGBA) as a data:image/png URL."""
    buffer = io.BytesIO()
    Image.fromarray(np.round(np.clip(pixels, 0, 1) * 255).astype(np.uint8), mode).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def heat_rgba(saliency):
    """Saliency in [0, 1] as a see-through heat map: transparent where 0, opaque orange-yellow at 1."""
    rgba = np.empty(saliency.shape + (4,))
    rgba[..., 0], rgba[..., 1], rgba[..., 2] = 1, 0.25 + 0.75 * saliency, 0
    rgba[..., 3] = saliency
    return rgba


def explain_digit(model, image):
    """What the network saw in one 28x28 digit: the pixels behind its answer (network.view's saliency,
    an ensemble's mean), as a heat map to lay over the input, and the first convolutional layer's
    feature maps (an ensemble's first member's; one scale: 0 black, the layer's largest white)."""
    from network import view

    image = image.reshape(28, 28, 1)
    layer = view.first_conv(model).name  # an ensemble's: its first member's
    maps = view.feature_maps(model, image)[layer]
    top = max(float(maps.max()), 1e-12)
    return {"saliency": png_data_url(heat_rgba(view.saliency(model, image)), "RGBA"),
            "feature_maps": {"layer": layer, "members": len(saved_model.members(model)), "shape": list(maps.shape),
                             "maps": [png_data_url(maps[:, :, i] / top) for i in range(maps.shape[-1])]}}


def predict(model, model_lock, image_bytes, explain=False):
    """An image file's bytes -> the /predict answer: predict_image.py --json's for that file, plus
    what the page shows: the image's size, the 28x28 input of each digit and, when asked, what the
    network saw in each (saliency and the first layer's feature maps)."""
    import handwriting

    gray = handwriting.grayscale(handwriting.open_image_bytes(image_bytes, "POST /predict"))
    candidates = handwriting.find_digits(gray)
    with model_lock:  # one model shared by the server's threads: one prediction at a time
        answer = handwriting.read_numbers(model, [gray], candidates=[candidates])[0]
    digits = candidates if answer["digits"] else []  # "no digit": candidates, but none of them a digit
    answer.update(size=[gray.shape[1], gray.shape[0]], inputs=[png_data_url(c.image) for c in digits])
    if explain:
        with model_lock:
            answer["explain"] = [explain_digit(model, c.image) for c in digits]
    return answer


# ---------------------------------------------------------------- serving

class Handler(BaseHTTPRequestHandler):
    """GET the page's files, POST /predict; every error is JSON {"error": ...} with a 4xx status."""
    model = model_lock = model_name = None  # set by serve()
    timeout = 30  # seconds a client may take to send its request

    def do_GET(self):
        path = urlsplit(self.path).path
        if path == "/predict":
            return self.method_not_allowed()
        if path == "/model":
            return self.send_json(HTTPStatus.OK, {"model": self.model_name})
        if path not in STATIC_FILES:
            return self.send_json(HTTPStatus.NOT_FOUND, {"error": f"{path}: not found"})
        name = STATIC_FILES[path]
        with open(os.path.join(WEB_DIR, name), "rb") as f:
            body = f.read()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", CONTENT_TYPES[os.path.splitext(name)[1]])
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        for key, value in SECURITY_HEADERS.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_HEAD = do_GET

    def do_POST(self):
        path = urlsplit(self.path).path
        if path != "/predict":
            if path in STATIC_FILES or path == "/model":
                return self.method_not_allowed()
            return self.send_json(HTTPStatus.NOT_FOUND, {"error": f"{path}: not found"})
        try:
            explain = self.explain_asked()
            answer = predict(self.model, self.model_lock, self.read_image(), explain)
        except BadRequest as e:
            self.close_connection = True  # its body may be unread: this connection cannot carry another request
            self.send_json(e.status, {"error": f"POST /predict: {e}"})
            return self.drop_unread_body()
        except UserError as e:  # from reading the image, as predict_image.py reports it
            return self.send_json(e.http_status, {"error": str(e)})
        self.send_json(HTTPStatus.OK, answer)

    def explain_asked(self):
        """?explain=1: also what the network saw (slower); the only query parameter there is."""
        query = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
        unknown = sorted(set(query) - {"explain"})
        if unknown:
            raise BadRequest(HTTPStatus.BAD_REQUEST, f"unknown parameter {unknown[0]!r} (there is only explain=1)")
        values = query.get("explain", ["0"])
        if values not in (["0"], ["1"]):
            raise BadRequest(HTTPStatus.BAD_REQUEST, f"explain={values[-1]!r}: use explain=1 (or 0)")
        return values == ["1"]

    def read_image(self):
        """The image file in the request body, or BadRequest."""
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if not (content_type.startswith("image/") or content_type in ("application/octet-stream",
                                                                        "application/json")):
            raise BadRequest(HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                             f"Content-Type {content_type or '(none)'}: send the image file as image/... or "
                             'application/octet-stream, or JSON {"image": "data:image/png;base64,..."}')
        length = self.headers.get("Content-Length")
        if length is None:
            raise BadRequest(HTTPStatus.LENGTH_REQUIRED, "Content-Length is required")
        if not (length.isascii() and length.isdigit()):
            raise BadRequest(HTTPStatus.BAD_REQUEST, f"bad Content-Length {length!r}")
        length = int(length)
        if length > MAX_BODY_BYTES:  # refused before reading it
            raise BadRequest(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                             f"body of {length} bytes is over the limit of {MAX_BODY_BYTES} bytes")
        if length == 0:
            raise BadRequest(HTTPStatus.BAD_REQUEST, "empty body: send an image file")
        try:
            body = self.rfile.read(length)
        except TimeoutError:
            raise BadRequest(HTTPStatus.REQUEST_TIMEOUT, f"body not received within {self.timeout} s")
        if len(body) < length:
            raise BadRequest(HTTPStatus.BAD_REQUEST, f"body ended after {len(body)} of {length} bytes")
        return image_bytes_from_json(body) if content_type == "application/json" else body

    def drop_unread_body(self):
        """Read and drop (briefly) what the client is still sending after an early answer: closing
        a socket with unread input resets the connection, and the client may lose the answer."""
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_WR)
        self.connection.settimeout(1)
        try:
            for _ in range(64):  # at most 4 MB
                if not self.rfile.read1(65536):
                    break
        except OSError:
            pass

    def method_not_allowed(self):
        path = urlsplit(self.path).path
        allowed = "POST" if path == "/predict" else "GET, HEAD"
        self.send_json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": f"{self.command} {path}: method not allowed "
                                                                f"(use {allowed})"}, {"Allow": allowed})

    def __getattr__(self, name):
        # Any other method (PUT, DELETE, ...): 405, where http.server would answer 501 in HTML.
        if name.startswith("do_"):
            return self.method_not_allowed
        raise AttributeError(name)

    def send_error(self, code, message=None, explain=None):
        """http.server's own errors (malformed request line, headers too long) as JSON too."""
        self.close_connection = True
        self.send_json(code, {"error": message or HTTPStatus(code).phrase})

    def send_json(self, status, obj, headers=None):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError):
            self.close_connection = True  # the client went away: nothing to answer
        except Exception as e:  # a bug, not the client's fault: one line in the log, a JSON 500
            self.log_error("error: %s", f"{e.__class__.__name__}: {e}".replace("\n", " "))
            self.close_connection = True
            try:
                self.send_json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "internal error"})
            except OSError:
                pass


def serve(model, host, port, model_name=None):
    """Serve the page and /predict on host:port until Ctrl-C; GET /model names `model_name`."""
    Handler.model, Handler.model_lock, Handler.model_name = model, threading.Lock(), model_name
    try:
        server = ThreadingHTTPServer((host, port), Handler)
    except OSError as e:
        raise UserError(f"{host}:{port}: cannot listen ({e.strerror or e})")
    with server:
        host, port = server.server_address[:2]
        print(f"Serving on http://{host}:{port}/", flush=True)
        server.serve_forever()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="predict_web.py", description=__doc__.splitlines()[0])
    cli.add_flag(parser, "model")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: 8000; 0 for any free port)")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error("--port must be between 0 and 65535")

    def start():
        import handwriting  # noqa: F401  (imported now, not on the first request)
        from network import view  # noqa: F401

        model = saved_model.load(args.model)
        model.predict_on_batch(np.zeros((1, 28, 28, 1), np.float32))  # build it now, not on the first request
        serve(model, args.host, args.port, os.path.basename(args.model))

    cli.run(start, "predict_web.py")


if __name__ == "__main__":
    main()
