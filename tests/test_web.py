"""predict_web.py: the POST /predict endpoint (answers, bad input, path traversal, load) over
HTTP, and the page in a real Chromium driven by Playwright (mouse, touch, upload, Clear).

One server for the module, on a free port, with the small model from conftest (or the model
named by WEB_TEST_MODEL; WEB_SCREENSHOT=PATH saves the screenshot the README shows). The browser
tests skip without Chromium and Playwright, unless REQUIRE_BROWSER=1 (CI), where they fail.
"""
import base64
import concurrent.futures
import http.client
import io
import json
import mimetypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from PIL import Image, ImageDraw

from plumbing import files
import handwriting
import predict_image
from conftest import REPO, assert_one_line_error, bomb_png, png_bytes, real_digit_files, run_script

SAMPLE = os.path.join(REPO, "sample_image.png")


# ---------------------------------------------------------------- the server

@pytest.fixture(scope="module")
def web_model(request):
    """The small model from conftest, or the model named by WEB_TEST_MODEL (for the README's screenshot)."""
    return os.environ.get("WEB_TEST_MODEL") or request.getfixturevalue("small_model")


@pytest.fixture(scope="module")
def server(web_model, tmp_path_factory):
    """predict_web.py on a free port: yields (host, port). Ctrl-C at the end must stop it cleanly."""
    log_path = tmp_path_factory.mktemp("web") / "server.log"
    with open(log_path, "w") as log:  # a file, not a pipe: a full pipe would block the server
        proc = subprocess.Popen([sys.executable, os.path.join(REPO, "predict_web.py"), "--model", str(web_model),
                                 "--port", "0"], stdout=subprocess.PIPE, stderr=log, text=True, cwd=REPO,
                                env=dict(os.environ, PYTHONUNBUFFERED="1"),
                                # a shell running the tests in the background passes SIGINT down ignored
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    first_line = []
    reader = threading.Thread(target=lambda: first_line.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(120)
    if not first_line or not first_line[0].startswith("Serving on http://"):
        proc.kill()
        pytest.fail(f"no 'Serving on' line: {first_line}\n{log_path.read_text()}")
    host, port = first_line[0].strip()[len("Serving on http://"):].rstrip("/").rsplit(":", 1)
    assert first_line[0] == f"Serving on http://{host}:{port}/\n" and host == "127.0.0.1" and int(port) > 0
    yield host, int(port)
    proc.send_signal(signal.SIGINT)
    try:
        assert proc.wait(30) == 130
    finally:
        proc.kill()  # only if it is still running
    log = log_path.read_text()
    assert "Traceback" not in log and "interrupted" in log.splitlines()[-1], log


def url(server, path="/"):
    return f"http://{server[0]}:{server[1]}{path}"


def request(server, method, path, body=None, headers=None):
    """One HTTP request: (status, headers, body bytes)."""
    conn = http.client.HTTPConnection(*server, timeout=60)
    try:
        conn.request(method, path, body, headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def post(server, body, content_type="image/png"):
    """POST /predict: (status, the JSON answer)."""
    status, headers, data = request(server, "POST", "/predict", body, {"Content-Type": content_type})
    assert headers["Content-Type"] == "application/json", data
    return status, json.loads(data)


def raw_request(server, data, then_close=False):
    """Send bytes as they are (for requests http.client will not make): (status, JSON answer)."""
    with socket.create_connection(server, timeout=30) as sock:
        sock.sendall(data)
        if then_close:
            sock.shutdown(socket.SHUT_WR)
        response = b""
        while chunk := sock.recv(65536):
            response += chunk
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def assert_json_error(status, answer, expected_status, *words):
    assert status == expected_status, answer
    assert list(answer) == ["error"] and isinstance(answer["error"], str), answer
    assert "\n" not in answer["error"] and "Traceback" not in answer["error"], answer
    for word in words:
        assert word in answer["error"], (word, answer)


@pytest.fixture(scope="module")
def model(web_model):
    return files.load_model(web_model)


def own_answer(model, image_bytes):
    """The model's own answer for an image file's bytes, read as predict_image.py reads files."""
    digit = handwriting.read_digit_bytes(image_bytes)
    return model.predict(digit[None], verbose=0)[0], digit


def drawn_digit_png():
    """A 7 drawn dark on white, as on the page's pad."""
    img = Image.new("L", (280, 280), 255)
    ImageDraw.Draw(img).line([(80, 60), (200, 60), (120, 220)], fill=0, width=20, joint="curve")
    return png_bytes(img)


def data_url(png):
    return "data:image/png;base64," + base64.b64encode(png).decode()


def image_from_data_url(url):
    assert url.startswith("data:image/png;base64,"), url[:40]
    return Image.open(io.BytesIO(base64.b64decode(url.partition(",")[2])))


# ---------------------------------------------------------------- HTTP: answers

def test_page_and_its_files_are_served(server):
    for path, content_type, text in [("/", "text/html", b'<canvas id="pad"'), ("/app.js", "text/javascript", b"fetch("),
                                     ("/style.css", "text/css", b"#pad")]:
        status, headers, body = request(server, "GET", path)
        assert status == 200 and headers["Content-Type"].startswith(content_type) and text in body, path
    # nothing fetched from the internet: the page works offline
    for name in os.listdir(os.path.join(REPO, "web")):
        with open(os.path.join(REPO, "web", name)) as f:
            text = f.read()
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, name


def test_sample_image_is_a_7_with_the_image_the_model_saw(server, model):
    with open(SAMPLE, "rb") as f:
        status, answer = post(server, f.read())
    assert status == 200 and sorted(answer) == ["digit", "input", "probabilities"]
    assert answer["digit"] == 7
    probs = answer["probabilities"]
    assert len(probs) == 10 and all(isinstance(p, float) for p in probs) and sum(probs) == pytest.approx(1, abs=1e-4)
    assert int(np.argmax(probs)) == 7
    seen = image_from_data_url(answer["input"])
    assert seen.size == (28, 28) and seen.mode == "L"
    expected = np.round(predict_image.load_image(SAMPLE)[:, :, 0] * 255)
    np.testing.assert_array_equal(np.asarray(seen), expected)


def test_same_digit_as_predict_image_for_every_file(server, web_model):
    files = [SAMPLE] + sorted(real_digit_files())
    result = run_script("predict_image.py", *files, "--json", "--top-k", "10", "--model", web_model)
    assert result.returncode == 0, result.stderr
    expected = {r["path"]: r for r in json.loads(result.stdout)}
    assert len(expected) == len(files) > 30
    for i, path in enumerate(files):
        # as its image type, and every third as application/octet-stream
        content_type = mimetypes.guess_type(path)[0] if i % 3 != 2 else None
        content_type = content_type or "application/octet-stream"
        with open(path, "rb") as f:
            status, answer = post(server, f.read(), content_type)
        assert status == 200, (path, answer)
        assert answer["digit"] == expected[path]["digit"], path
        cli_probs = {t["digit"]: t["probability"] for t in expected[path]["top_k"]}
        np.testing.assert_allclose(answer["probabilities"], [cli_probs[d] for d in range(10)], atol=1e-4)


def test_json_data_url_gives_the_same_answer_as_the_file(server):
    png = drawn_digit_png()
    status, as_file = post(server, png)
    status_json, as_json = post(server, json.dumps({"image": data_url(png)}).encode(), "application/json")
    assert status == status_json == 200
    assert as_json == as_file


# ---------------------------------------------------------------- HTTP: bad input

@pytest.mark.parametrize("body, content_type, status, words", [
    (b"", "image/png", 400, ["empty"]),
    (b"hello, this is not an image\n", "image/png", 400, ["not an image"]),
    (b"hello, this is not an image\n", "application/octet-stream", 400, ["not an image"]),
    ("truncated", "image/png", 400, ["truncated"]),
    (bomb_png(20000, 20000), "image/png", 413, ["too large", "decompression bomb"]),
    (bomb_png(10000, 10000), "image/png", 413, ["too large"]),  # between Pillow's limit and twice it
    (b"{not json", "application/json", 400, ["malformed JSON"]),
    (b'["data:image/png;base64,"]', "application/json", 400, ['{"image"']),
    (b'{"image": "hello"}', "application/json", 400, ["data URL"]),
    (b'{"image": "data:image/png;base64,@@@"}', "application/json", 400, ["base64"]),
    (json.dumps({"image": data_url(b"not a png")}).encode(), "application/json", 400, ["not an image"]),
    (b"\x89PNG", "text/plain", 415, ["Content-Type text/plain"]),
], ids=["empty", "text", "text-octet-stream", "truncated", "bomb", "bomb-warning", "malformed-json", "json-list",
        "json-not-data-url", "json-bad-base64", "json-not-an-image", "wrong-content-type"])
def test_bad_input_is_a_json_error(server, body, content_type, status, words):
    if body == "truncated":
        with open(SAMPLE, "rb") as f:
            body = f.read()[:200]
    assert_json_error(*post(server, body, content_type), status, *words)


def test_blank_image_is_422_no_digit_found(server):
    status, answer = post(server, png_bytes(Image.new("L", (280, 280), 255)))
    assert status == 422 and answer == {"error": "no digit found"}


def test_body_over_the_limit_is_refused_before_it_is_read(server):
    import predict_web
    too_big = predict_web.MAX_BODY_BYTES + 1
    start = time.monotonic()
    # claims more than the limit, sends 64 KB of it, and waits for the answer
    status, answer = raw_request(server, b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                                         b"Content-Length: %d\r\n\r\n" % too_big + b"\0" * 65536)
    assert_json_error(status, answer, 413, str(too_big), "over the limit")
    assert time.monotonic() - start < 10


@pytest.mark.parametrize("head, tail, status, words", [
    (b"Content-Length: 1000", b"\x89PNG\r\n\x1a\n", 400, ["body ended after 8 of 1000 bytes"]),
    (b"X-No-Length: 1", b"", 411, ["Content-Length is required"]),
    (b"Content-Length: -5", b"", 400, ["bad Content-Length"]),
])
def test_body_that_does_not_match_its_length(server, head, tail, status, words):
    data = b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n" + head + b"\r\n\r\n" + tail
    assert_json_error(*raw_request(server, data, then_close=True), status, *words)


@pytest.mark.parametrize("method, path, status, allow", [
    ("GET", "/predict", 405, "POST"),
    ("PUT", "/predict", 405, "POST"),
    ("DELETE", "/", 405, "GET, HEAD"),
    ("POST", "/", 405, "GET, HEAD"),
    ("BREW", "/", 405, "GET, HEAD"),
    ("GET", "/nothing", 404, None),
    ("POST", "/predict/more", 404, None),
])
def test_wrong_method_or_path(server, method, path, status, allow):
    got, headers, body = request(server, method, path, b"", {"Content-Type": "image/png"})
    assert_json_error(got, json.loads(body), status, path)
    assert headers["Allow"] == allow


@pytest.mark.parametrize("path", [
    "/../README.md", "/%2e%2e/README.md", "/%2E%2E%2FREADME.md", "/..%2fREADME.md", "/web/../README.md",
    "/app.js/../../predict_web.py", "/....//README.md", "/../../../../etc/passwd", "//etc/passwd",
    "/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/..\\README.md", "/style.css%00.html", "/index.html/",
])
def test_path_traversal_is_not_served(server, path):
    status, answer = raw_request(server, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode(), then_close=True)
    assert_json_error(status, answer, 404, "not found")


def test_malformed_request_line_is_a_json_400(server):
    status, answer = raw_request(server, b"GET /a b HTTP/1.1\r\n\r\n", then_close=True)
    assert_json_error(status, answer, 400, "Bad request syntax")


def test_load_from_8_threads(server):
    png = drawn_digit_png()
    status, expected = post(server, png)
    assert status == 200
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: post(server, png), range(320)))
    elapsed = time.monotonic() - start
    assert [status for status, _ in answers] == [200] * 320
    assert all(answer == expected for _, answer in answers)
    assert elapsed < 120, elapsed
    # still answering afterwards
    assert request(server, "GET", "/")[0] == 200
    assert post(server, png) == (200, expected)


# ---------------------------------------------------------------- the command line

def test_help_and_one_line_errors(web_model, tmp_path):
    result = run_script("predict_web.py", "--help")
    assert result.returncode == 0 and all(flag in result.stdout for flag in ("--model", "--host", "--port"))
    missing = tmp_path / "missing.h5"
    result = run_script("predict_web.py", "--model", missing, "--port", "0", timeout=120)
    assert_one_line_error(result, str(missing), "model file not found")
    assert "Serving on" not in result.stdout
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_script("predict_web.py", "--model", web_model, "--port", port, timeout=120)
    assert_one_line_error(result, f"127.0.0.1:{port}", "cannot listen")
    assert "Serving on" not in result.stdout


# ---------------------------------------------------------------- in a real browser

@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if not chromium or not sync_playwright:
        missing = "Chromium (apt-get install chromium)" if not chromium else "Playwright (pip install playwright)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {missing} is missing")
        pytest.skip(f"the browser tests need {missing}")
    with sync_playwright() as playwright:
        # as root (CI), Chromium's sandbox cannot start
        browser = playwright.chromium.launch(executable_path=chromium,
                                             args=["--no-sandbox"] if os.geteuid() == 0 else [])
        yield browser
        browser.close()


def open_page(browser, server, **context_options):
    """The page in a new browser context; JavaScript errors are collected in page.errors."""
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    # (a 4xx answer is logged as "Failed to load resource": expected for bad input)
    page.on("console", lambda m: page.errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    page.goto(url(server))
    assert page.inner_text("#message") == "draw a digit"
    return page


@pytest.fixture
def page(browser, server):
    """A desktop window on a high-DPI screen (2 canvas pixels per CSS pixel)."""
    page = open_page(browser, server, viewport={"width": 720, "height": 480}, device_scale_factor=2)
    yield page
    assert page.errors == []
    page.context.close()


def pad_point(page, x, y):
    """A point on the pad, in units of its side, as page coordinates (CSS pixels)."""
    box = page.locator("#pad").bounding_box()
    border = 1  # style.css
    side = box["width"] - 2 * border
    return box["x"] + border + x * side, box["y"] + border + y * side


def draw_with_mouse(page, strokes):
    for stroke in strokes:
        page.mouse.move(*pad_point(page, *stroke[0]))
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(*pad_point(page, x, y), steps=8)
        page.mouse.up()
    page.wait_for_selector("body[data-state=idle]")


def draw_with_touch(page, strokes):
    """Real touch events (as a finger makes them), through the Chrome DevTools Protocol."""
    cdp = page.context.new_cdp_session(page)
    for stroke in strokes:
        (x0, y0), points = stroke[0], []
        for x1, y1 in stroke[1:]:
            points += [(x0 + (x1 - x0) * t / 8, y0 + (y1 - y0) * t / 8) for t in range(1, 9)]
            x0, y0 = x1, y1
        x, y = pad_point(page, *stroke[0])
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
        for point in points:
            x, y = pad_point(page, *point)
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    page.wait_for_selector("body[data-state=idle]")


def shown(page):
    """What the page shows: (digit text, [ten probabilities], [ten bar widths in %], seen image URL)."""
    return page.evaluate("""() => {
        const bars = [...document.querySelectorAll('#bars li')];
        const seen = document.getElementById('seen');
        return [document.getElementById('digit').textContent,
                bars.map(li => li.dataset.probability === undefined ? null : Number(li.dataset.probability)),
                bars.map(li => parseFloat(li.querySelector('.bar').style.width)),
                document.getElementById('seen-figure').hidden ? null : seen.getAttribute('src')];
    }""")


def pad_png(page):
    url = page.evaluate("document.getElementById('pad').toDataURL('image/png')")
    return base64.b64decode(url.partition(",")[2])


def assert_shows_the_models_own_answer(page, model, server):
    """The shown digit, bars and 28x28 image are the model's own answer for the pad's pixels."""
    png = pad_png(page)
    probs, digit = own_answer(model, png)
    shown_digit, shown_probs, widths, seen_url = shown(page)
    assert shown_digit == str(int(np.argmax(probs)))
    np.testing.assert_allclose(shown_probs, probs, atol=1e-4)
    np.testing.assert_allclose(widths, np.round(100 * np.asarray(shown_probs), 1), atol=0.051)
    np.testing.assert_array_equal(np.asarray(image_from_data_url(seen_url)), np.round(digit[:, :, 0] * 255))
    assert post(server, png)[1]["input"] == seen_url  # and the same as a direct POST of those pixels
    return int(shown_digit), png


def ink_box(png):
    """The ink's bounding box on the pad, in units of its side: (left, top, right, bottom); None if blank."""
    ink = np.asarray(Image.open(io.BytesIO(png)).convert("L")) < 128
    if not ink.any():
        return None
    ys, xs = np.nonzero(ink)
    side = ink.shape[1]
    return xs.min() / side, ys.min() / side, (xs.max() + 1) / side, (ys.max() + 1) / side


VERTICAL_STROKE = [[(0.5, 0.2), (0.5, 0.8)]]
SEVEN = [[(0.3, 0.2), (0.7, 0.2)], [(0.7, 0.2), (0.45, 0.8)]]  # two strokes


def test_vertical_stroke_with_the_mouse_is_a_1(page, model, server):
    draw_with_mouse(page, VERTICAL_STROKE)
    digit, png = assert_shows_the_models_own_answer(page, model, server)
    assert digit == 1
    # CSS pixels mapped to canvas pixels: twice as many on this screen, the stroke where the mouse went
    assert page.evaluate("[document.getElementById('pad').width, document.getElementById('pad').clientWidth]") \
        == [560, 280]
    brush = 0.07 / 2
    np.testing.assert_allclose(ink_box(png), (0.5 - brush, 0.2 - brush, 0.5 + brush, 0.8 + brush), atol=0.01)


def test_seven_in_two_strokes_with_the_mouse(page, model, server, tmp_path):
    draw_with_mouse(page, SEVEN)
    digit, _ = assert_shows_the_models_own_answer(page, model, server)
    assert digit == 7
    # for the README: WEB_TEST_MODEL=final_model.h5 WEB_SCREENSHOT=docs/predict_web.png
    screenshot = os.environ.get("WEB_SCREENSHOT") or tmp_path / "predict_web.png"
    page.screenshot(path=screenshot, scale="css")
    assert Image.open(screenshot).size == (720, 480)


def test_seven_with_a_finger_on_a_phone(browser, server, model):
    page = open_page(browser, server, viewport={"width": 360, "height": 640}, device_scale_factor=3,
                     is_mobile=True, has_touch=True)
    page.evaluate("document.getElementById('pad').addEventListener('pointerdown', "
                  "e => window.pointerType = e.pointerType)")
    draw_with_touch(page, SEVEN)
    assert page.evaluate("window.pointerType") == "touch"
    digit, _ = assert_shows_the_models_own_answer(page, model, server)
    assert digit == 7
    # fits the phone's width: no sideways scrolling, the whole pad and Clear on screen
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    for selector in ("#pad", "#clear"):
        box = page.locator(selector).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360, selector
    assert page.errors == []
    page.context.close()


def test_upload_sample_image_is_a_7(page):
    page.set_input_files("#upload", SAMPLE)
    page.wait_for_selector("body[data-state=idle]")
    assert page.inner_text("#digit") == "7" and page.inner_text("#source") == "from sample_image.png"
    assert page.locator("#error").is_hidden() and page.locator("#seen-figure").is_visible()


def test_upload_a_text_file_shows_the_error(page, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a digit\n")
    page.set_input_files("#upload", notes)
    page.wait_for_selector("body[data-state=idle]")
    assert page.locator("#error").is_visible()
    assert page.inner_text("#error") == "notes.txt: not an image file Pillow can read"
    assert shown(page) == ["", [None] * 10, [0] * 10, None]  # no guess


def test_clear_from_the_keyboard_shows_draw_a_digit(page):
    draw_with_mouse(page, SEVEN)
    assert page.inner_text("#digit") != ""
    for _ in range(10):  # Tab to the Clear button
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "clear":
            break
    page.keyboard.press("Enter")
    assert page.inner_text("#message") == "draw a digit"
    assert shown(page) == ["", [None] * 10, [0] * 10, None]
    assert ink_box(pad_png(page)) is None  # a blank pad


def test_clear_while_a_prediction_is_on_its_way_shows_no_guess(page):
    for _ in range(3):
        page.mouse.move(*pad_point(page, 0.5, 0.2))
        page.mouse.down()
        page.mouse.move(*pad_point(page, 0.5, 0.8), steps=4)
        page.mouse.up()
        page.click("#clear")  # at once, before the answer is back
        page.wait_for_selector("body[data-state=idle]")
        assert page.inner_text("#message") == "draw a digit"
        assert shown(page) == ["", [None] * 10, [0] * 10, None]
