"""predict_image.py: MNIST-style preprocessing (unit tests on synthetic digits), real-world
digits, the batch/top-k/JSON outputs, and a corpus of malformed files and models."""
import io
import json
import os
import shutil

import h5py
import numpy as np
import pytest
from PIL import Image, ImageDraw
from scipy import ndimage

from plumbing.cli import UserError
import handwriting
import predict_image
from handwriting import pipeline
import pinned_digits
from drawings import (SHEET_CORNERS, draw_seven, grainy_pencil_seven, on_desk, seven_sheet, sheet_digits,
                      under_uneven_light)
from conftest import REPO, assert_one_line_error, bomb_png, png_bytes, real_digit_files, run_script


def mnist_like(img):
    return handwriting.to_mnist(handwriting.grayscale(img))


def assert_looks_like_mnist(digit):
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert digit.max() == pytest.approx(1.0) and digit.min() >= 0.0
    cy, cx = ndimage.center_of_mass(digit)
    assert abs(cy - 13.5) <= 1 and abs(cx - 13.5) <= 1  # centre of mass at the centre
    ys, xs = np.nonzero(digit > 0.05)
    height, width = np.ptp(ys) + 1, np.ptp(xs) + 1
    assert max(height, width) <= 20 and max(height, width) >= 18  # longest side fitted into 20x20
    corners = np.concatenate([digit[:3, :3].ravel(), digit[-3:, -3:].ravel()])
    assert corners.max() < 0.05  # black background


@pytest.mark.parametrize("name, img", [
    ("dark ink on white", draw_seven()),
    ("white ink on black (MNIST polarity)", draw_seven(ink=255, paper=0)),
    ("off-centre and small", draw_seven(size=(400, 300), box=(300, 200, 360, 280), width=6)),
    ("tiny", draw_seven(size=(12, 12), box=(2, 2, 9, 10), width=1)),
    ("huge", draw_seven(size=(3000, 2000), box=(400, 300, 1400, 1700), width=90)),
    ("thin pen stroke", draw_seven(size=(600, 600), box=(100, 100, 500, 500), width=2)),
    ("grey paper", draw_seven(ink=60, paper=170)),
])
def test_preprocessing_makes_an_mnist_digit(name, img):
    assert_looks_like_mnist(mnist_like(img))


def test_rgba_is_composited_onto_white():
    img = Image.new("RGBA", (100, 100), (0, 0, 0, 0))  # transparent black: paper once composited
    ImageDraw.Draw(img).line([(20, 20), (80, 20), (40, 85)], fill=(0, 0, 0, 255), width=8)
    digit = mnist_like(img)
    assert_looks_like_mnist(digit)
    np.testing.assert_allclose(digit, mnist_like(draw_seven((100, 100), (20, 20, 80, 85), 8)), atol=0.02)


def test_noise_and_shading_are_suppressed():
    rng = np.random.default_rng(0)
    clean = np.asarray(draw_seven(), np.float64) / 255
    shade = np.linspace(0.0, 0.35, 200)[None, :]  # a shadow across the page
    noisy = np.clip(clean - shade + rng.normal(0, 0.04, clean.shape), 0, 1)
    digit, reference = handwriting.to_mnist(noisy), handwriting.to_mnist(clean)
    assert_looks_like_mnist(digit)
    # the same 7 as on clean paper, give or take the one-pixel rounding of the centring
    best = max(np.corrcoef(np.roll(digit, (dy, dx), (0, 1)).ravel(), reference.ravel())[0, 1]
               for dy in (-1, 0, 1) for dx in (-1, 0, 1))
    assert best > 0.95
    far_from_ink = ~ndimage.binary_dilation(reference > 0, iterations=2)
    assert (digit[far_from_ink] > 0.2).sum() == 0  # no speckle of paper texture


def test_thin_strokes_are_thickened_like_mnist():
    thin = mnist_like(draw_seven(size=(600, 600), box=(100, 100, 500, 500), width=2))
    thick = mnist_like(draw_seven(size=(600, 600), box=(100, 100, 500, 500), width=40))
    ink = [(d > 0.5).sum() for d in (thin, thick)]
    assert ink[0] > 0.5 * ink[1]  # a 2-pixel pen line ends up with comparable ink to a 40-pixel brush


@pytest.mark.parametrize("value", [0, 128, 255])
def test_blank_image_is_no_digit(value):
    blank = Image.new("L", (50, 50), value)
    assert handwriting.ink_pieces(handwriting.grayscale(blank)) is None  # a value inside the pipeline
    with pytest.raises(handwriting.NoDigit, match="no digit found"):  # an exception at its door
        mnist_like(blank)


def ink_box_in_image(img):
    """Where ink_pieces and keep_the_strokes find the digit, in the pixels of the image as given."""
    ink = handwriting.ink_pieces(handwriting.grayscale(img))
    ys, xs = np.nonzero(handwriting.keep_the_strokes(ink))
    return ink.frame.box_in_image(xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)


def test_ink_pieces_map_back_to_the_image_as_given():
    # a drawing, enlarged to work size: the 7 of box (40, 30, 160, 170), 12 pixels wide, in a 100x100 image
    drawn = ink_box_in_image(draw_seven(size=(100, 100), box=(20, 15, 80, 85), width=6))
    assert np.allclose(drawn, (17, 12, 83, 88), atol=2), drawn
    # a sheet on a desk: cropped to the sheet and reduced; the 7 is where on_desk put it
    on_sheet = ink_box_in_image(on_desk(seven_sheet()))
    assert np.allclose(on_sheet, sheet_digit_box(), atol=8), (on_sheet, sheet_digit_box())


def test_fit_digit_fits_an_ink_crop_into_20x20_centred_by_mass():
    crop = np.zeros((90, 30))
    crop[:, 10:20] = 1.0  # a bar three times as tall as wide, strokes as thick as MNIST's
    digit = handwriting.fit_digit(crop, crop > 0)
    ys, xs = np.nonzero(digit > 0.5)
    assert digit.shape == (28, 28) and digit.dtype == np.float32 and np.ptp(ys) + 1 == 20
    assert abs(ndimage.center_of_mass(digit)[0] - 13.5) <= 0.5 and abs(ndimage.center_of_mass(digit)[1] - 13.5) <= 0.5


def test_raw_keeps_the_tutorials_plain_resize(tmp_path):
    draw_seven().save(tmp_path / "seven.png")
    raw = predict_image.load_image(str(tmp_path / "seven.png"), raw=True)
    assert raw.shape == (28, 28, 1) and raw[0, 0, 0] == 1.0  # white paper stays white: no inversion


# ---------------------------------------------------------------- with a model


def test_real_world_digits(small_model):
    """A deeper model trained for one epoch on 20,000 images; the full final model does better (README)."""
    labels = real_digit_files()
    result = run_script("predict_image.py", *labels, "--json", "--model", small_model)
    assert result.returncode == 0, result.stderr
    predictions = {r["path"]: r["digit"] for r in json.loads(result.stdout)}
    right = sum(predictions[path] == label for path, label in labels.items())
    assert right >= 30, f"{right} of {len(labels)}"  # measured: 32 of 33 with this small model
    raw = run_script("predict_image.py", *labels, "--json", "--raw", "--model", small_model)
    raw_right = sum(r["digit"] == labels[r["path"]] for r in json.loads(raw.stdout))
    assert raw_right < right - 10  # the tutorial's plain resize gets far fewer right


def test_batch_outputs(small_model, tmp_path):
    draw_seven().save(tmp_path / "a.png")
    draw_seven(ink=255, paper=0).save(tmp_path / "b.jpg")
    result = run_script("predict_image.py", tmp_path, "sample_image.png", "--model", small_model)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [str(tmp_path / "a.png"), str(tmp_path / "b.jpg"),
                                                     "sample_image.png"]
    assert all(line.split(": ")[1].startswith("7 (p=0.") or line.split(": ")[1].startswith("7 (p=1.")
               for line in lines)

    result = run_script("predict_image.py", "sample_image.png", "--top-k", 3, "--model", small_model)
    guesses = result.stdout.strip().split(", ")
    assert len(guesses) == 3 and guesses[0].startswith("7 (p=")
    probs = [float(g.split("p=")[1].rstrip(")")) for g in guesses]
    assert probs == sorted(probs, reverse=True) and sum(probs) <= 1.001

    result = run_script("predict_image.py", tmp_path, "--json", "--top-k", 2, "--model", small_model,
                        "--show-preprocessed", tmp_path / "seen.png")
    records = json.loads(result.stdout)
    assert [set(r) for r in records] == [{"path", "number", "digits", "digit", "probability", "top_k"}] * 2
    assert all(r["digit"] == 7 and 0.5 < r["probability"] <= 1 and len(r["top_k"]) == 2 for r in records)
    with Image.open(tmp_path / "seen.png") as img:
        assert img.size[0] > 100


# ---------------------------------------------------------------- malformed input


def malformed_corpus(folder):
    """Over 200 files a user might hand us: {path: what to expect}: the error text, None for a
    valid image (predicted, a 7), or "either" for damage the pixels may survive (an error or a
    prediction, never both, never a traceback)."""
    rng = np.random.default_rng(1)
    files = {}

    def add(name, data, expect):
        path = os.path.join(folder, name)
        with open(path, "wb") as f:
            f.write(data)
        files[path] = expect

    seven = draw_seven()
    good_png, good_jpg = png_bytes(seven), png_bytes(seven.convert("RGB"), format="JPEG", quality=90)
    for ext in ("png", "jpg", "gif", "bmp", "webp"):
        add(f"empty.{ext}", b"", "empty file")
    for i in range(40):
        text = " ".join(rng.choice(["digit", "seven", "hello", "\n", "PNG", "%", "{}"], 20)).encode()
        add(f"text_{i}.{['png', 'jpg', 'gif'][i % 3]}", text, "not an image file")
    for i, cut in enumerate(np.linspace(9, len(good_png) - 20, 40).astype(int)):
        add(f"truncated_{i}.png", good_png[:cut], "either")
    for i, cut in enumerate(np.linspace(4, len(good_jpg) - 10, 40).astype(int)):
        add(f"truncated_{i}.jpg", good_jpg[:cut], "either")
    for i in range(40):
        magic = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a"][i % 3]
        add(f"garbage_{i}.{['png', 'jpg', 'gif'][i % 3]}", magic + rng.bytes(int(rng.integers(1, 400))), "either")
    for i in range(5):
        add(f"bomb_{i}.png", bomb_png(20000 + i, 20000), "image too large")
    for i, value in enumerate((0, 255, 128, 30, 220)):  # an answer, not an error: "no digit"
        add(f"blank_{i}.png", png_bytes(Image.new("L", (64, 64), value)), "no digit")
    add("blank_rgba.png", png_bytes(Image.new("RGBA", (64, 64), (0, 0, 0, 0))), "no digit")
    # Unusual but valid images: all must be predicted, as a 7.
    for i in range(5):
        sixteen = (np.asarray(draw_seven(width=10 + i), np.uint16) * 257).astype(np.uint16)
        add(f"sixteen_bit_{i}.png", png_bytes(Image.fromarray(sixteen)), None)
        add(f"cmyk_{i}.jpg", png_bytes(draw_seven(width=10 + i).convert("CMYK"), format="JPEG"), None)
        add(f"palette_{i}.png", png_bytes(draw_seven(width=10 + i).convert("RGB").convert("P")), None)
        add(f"palette_transparent_{i}.png", png_bytes(draw_seven(width=10 + i).convert("P"), transparency=255), None)
        rgba = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
        rgba.paste(draw_seven(width=10 + i, mode="RGBA", paper=(0, 0, 0, 0), ink=(20, 20, 200, 255)))
        add(f"rgba_{i}.png", png_bytes(rgba), None)
        frames = [draw_seven(width=10 + i).convert("P"), Image.new("P", (200, 200), 0)]
        buf = io.BytesIO()
        frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=100)
        add(f"animated_{i}.gif", buf.getvalue(), None)
        add(f"good_{i}.jpg", good_jpg, None)
    return files


def test_malformed_corpus_gives_one_line_each_and_predicts_the_rest(small_model, tmp_path):
    files = malformed_corpus(str(tmp_path))
    assert len(files) >= 200
    result = run_script("predict_image.py", tmp_path, "--json", "--model", small_model, timeout=300)
    assert result.returncode == 1  # some files were bad
    assert "Traceback" not in result.stderr
    predicted = {r["path"]: r.get("digit", r["number"]) for r in json.loads(result.stdout)}
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert all(line.startswith("predict_image.py: error: ") for line in errors), errors[:5]
    for path, expect in files.items():
        reported = [line for line in errors if f"error: {path}: " in line]
        if expect is None:
            assert predicted.get(path) == 7 and not reported, (path, reported)
        elif expect == "no digit":
            assert predicted.get(path) == "" and not reported, (path, reported)
        elif expect == "either":  # cut or damaged where the pixels may still all be there
            assert (path in predicted) != (len(reported) == 1), (path, reported)
        else:
            assert path not in predicted and len(reported) == 1, (path, reported)
            assert expect in reported[0], reported[0]


@pytest.mark.parametrize("problem", ["truncated", "text", "not_keras", "wrong_input"])
def test_bad_model_files(problem, small_model, tmp_path, mnist):
    path = tmp_path / "model.h5"
    if problem == "truncated":
        data = open(small_model, "rb").read()
        path.write_bytes(data[:len(data) // 2])
    elif problem == "text":
        path.write_text("not a model\n")
    elif problem == "not_keras":
        with h5py.File(path, "w") as f:
            f["weights"] = np.zeros(3)
    else:
        import keras
        model = keras.Sequential([keras.Input((32, 32, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
        model.save(path)
    for result in (run_script("predict_image.py", "--model", path),
                   run_script("evaluate_final.py", "--model", path, "--data", mnist)):
        assert_one_line_error(result, str(path))
        assert ("expected (None, 28, 28, 1)" if problem == "wrong_input" else "not a loadable Keras model") \
            in result.stderr


def test_directory_without_images(small_model, tmp_path):
    (tmp_path / "notes.txt").write_text("no images here")
    result = run_script("predict_image.py", tmp_path, "--model", small_model)
    assert_one_line_error(result, str(tmp_path), "no images")


def test_default_sample_image_is_found_from_another_folder(small_model, tmp_path):
    result = run_script("predict_image.py", "--model", small_model, cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == "7", result.stderr


@pytest.mark.parametrize("name", ["seen.txt", "seen"])
def test_preprocessed_grid_is_only_written_as_png(name, tmp_path):
    result = run_script("predict_image.py", "sample_image.png", "--show-preprocessed", tmp_path / name)
    assert_one_line_error(result, str(tmp_path / name), ".png")
    assert len(result.stderr.splitlines()) == 1 and not (tmp_path / name).exists()


def test_atomic_preprocessed_grid_not_left_half_written(small_model, tmp_path):
    shutil.copy(os.path.join(REPO, "sample_image.png"), tmp_path / "s.png")
    result = run_script("predict_image.py", tmp_path / "s.png", "--model", small_model,
                        "--show-preprocessed", tmp_path / "grid.png")
    assert result.stdout.strip() == "7"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.png", "s.png"]


# ---------------------------------------------------------------- photos of a sheet on a desk

def sheet_digit_box():
    """Where seven_sheet's 7 lands in on_desk's photo: the perspective map of its box's corners."""
    coefficients = sheet_digits.perspective_coefficients(SHEET_CORNERS, [(0, 0), (300, 0), (300, 400), (0, 400)])
    a, b, c, d, e, f, g, h = coefficients
    points = [((a * x + b * y + c) / (g * x + h * y + 1), (d * x + e * y + f) / (g * x + h * y + 1))
              for x, y in [(110, 150), (190, 150), (110, 260), (190, 260)]]
    xs, ys = zip(*points)
    return min(xs), min(ys), max(xs), max(ys)


def best_correlation(digit, reference):
    """How alike two 28x28 digits are, allowing the one-pixel rounding of the centring."""
    return max(np.corrcoef(np.roll(digit, (dy, dx), (0, 1)).ravel(), reference.ravel())[0, 1]
               for dy in (-1, 0, 1) for dx in (-1, 0, 1))


def clean_seven():
    """The sheet's 7 alone, on clean white paper: what the model should see."""
    return mnist_like(seven_sheet(ink=0, paper=255).crop((60, 100, 240, 310)))


def test_sheet_on_a_desk_is_found_and_holds_the_digit():
    photo = on_desk(seven_sheet())
    gray = pipeline.at_work_size(handwriting.grayscale(photo), pipeline.PARAMS.sheet_search_size)
    sheet = pipeline.find_sheet(gray)
    assert sheet is not None
    scale = gray.shape[1] / photo.size[0]
    x0, y0, x1, y1 = (round(v * scale) for v in sheet_digit_box())
    assert sheet[y0:y1 + 1, x0:x1 + 1].all()  # the whole 7 is on the sheet found
    assert not sheet[:, :round(140 * scale)].any() and not sheet[:, round(460 * scale):].any()  # the desk is not
    assert 0.2 < sheet.mean() < 0.45  # the sheet covers about a third of the photo, less its edge


def test_sheet_on_a_desk_gives_the_digit_not_a_bright_rectangle():
    digit = mnist_like(on_desk(seven_sheet()))
    assert_looks_like_mnist(digit)
    assert (digit > 0.5).mean() < 0.25  # a stroke, not a filled rectangle (that would be over 0.4)
    assert best_correlation(digit, clean_seven()) > 0.8


@pytest.mark.parametrize("name, sheet", [
    ("faint pencil on grey paper", seven_sheet(ink=120, paper=160, width=4)),
    ("ruled paper, lines about as dark as the pencil", seven_sheet(ink=120, paper=200, width=4, ruled=140)),
    ("ballpoint on ruled paper", seven_sheet(ink=40, ruled=170)),
])
def test_faint_strokes_and_ruled_lines_on_a_sheet(name, sheet):
    rng = np.random.default_rng(1)
    photo = np.asarray(on_desk(sheet), np.float64) / 255
    shade = np.linspace(1.0, 0.75, photo.shape[1])[None, :]  # light falling off across the desk
    photo = np.clip(photo * shade + rng.normal(0, 0.01, photo.shape), 0, 1)
    digit = handwriting.to_mnist(photo)
    assert_looks_like_mnist(digit)
    assert best_correlation(digit, mnist_like(on_desk(seven_sheet()))) > 0.85, name  # the same 7 as in ink


@pytest.mark.parametrize("ruled", [None, 170])
def test_blank_sheet_on_a_desk_is_no_digit(ruled):
    with pytest.raises(UserError, match="no digit found"):
        mnist_like(on_desk(seven_sheet(ink=225, ruled=ruled)))  # ink the colour of the paper: nothing written


@pytest.mark.parametrize("orientation", [6, 8])
def test_photo_stored_sideways_is_turned_by_its_exif_tag(orientation, tmp_path):
    photo = on_desk(seven_sheet()).convert("RGB")
    (tmp_path / "upright.jpg").write_bytes(sheet_digits.jpeg_bytes(photo, 1))
    (tmp_path / "sideways.jpg").write_bytes(sheet_digits.jpeg_bytes(photo, orientation))
    with Image.open(tmp_path / "sideways.jpg") as stored:
        assert stored.size == photo.size[::-1]  # the pixels are stored turned
    upright = predict_image.load_image(str(tmp_path / "upright.jpg"))[:, :, 0]
    sideways = predict_image.load_image(str(tmp_path / "sideways.jpg"))[:, :, 0]
    assert best_correlation(sideways, upright) > 0.9  # the same 7 (turned, it would be far off)


def test_drawings_and_mnist_digits_are_not_taken_for_a_sheet(mnist):
    """Light strokes on black (MNIST's polarity) are a digit, not a sheet on a desk."""
    test_images = np.load(mnist)["x_test"][:50] / 255.0
    assert max(test_images.shape[1:]) < pipeline.PARAMS.min_photo_size  # 28x28: never searched for a sheet
    big = np.kron(test_images, np.ones((12, 12)))  # 336x336: large enough to be searched for a sheet
    for image in big:
        assert pipeline.find_sheet(pipeline.at_work_size(image, pipeline.PARAMS.sheet_search_size)) is None


@pytest.fixture(scope="module")
def sheet_photos(tmp_path_factory):
    """40 synthetic sheet-on-a-desk photos (bench/sheet_digits.py, seed 0, 640 pixels), four of each digit."""
    folder = tmp_path_factory.mktemp("sheets")
    rows = sheet_digits.write_set(str(folder), 40, seed=0, long_side=640)
    return {path: label for path, label, _ in rows}


def test_sheet_set_is_the_same_for_the_same_seed(sheet_photos, tmp_path):
    rows = sheet_digits.write_set(str(tmp_path), 3, seed=0, long_side=640)
    for path, label, _ in rows:
        original = [p for p in sheet_photos if os.path.basename(p) == os.path.basename(path)][0]
        assert open(path, "rb").read() == open(original, "rb").read() and sheet_photos[original] == label


SHEET_PHOTOS_RIGHT = 28  # measured: 33 of 40 with the small model (the full final model: more)


def test_sheet_photos_with_a_model(small_model, sheet_photos):
    result = run_script("predict_image.py", *sheet_photos, "--json", "--model", small_model)
    assert "Traceback" not in result.stderr
    predictions = {r["path"]: r.get("digit") for r in json.loads(result.stdout)}  # none: no digit or several
    right = sum(predictions.get(path) == label for path, label in sheet_photos.items())
    assert right >= SHEET_PHOTOS_RIGHT, f"{right} of {len(sheet_photos)}"
    raw = run_script("predict_image.py", *sheet_photos, "--json", "--raw", "--model", small_model)
    raw_right = sum(r["digit"] == sheet_photos[r["path"]] for r in json.loads(raw.stdout))
    assert raw_right <= 8  # the tutorial's plain resize: about chance


def test_web_reads_sheet_photos_as_the_command_line_does(sheet_photos):
    """predict_web.py reads request bodies with load_image_bytes: the same 28x28 image, EXIF tags included."""
    for path in list(sheet_photos)[:10]:
        with open(path, "rb") as f:
            from_bytes = handwriting.read_digit_bytes(f.read())
        np.testing.assert_array_equal(from_bytes, predict_image.load_image(path))


@pytest.mark.parametrize("close_up", [False, True])
def test_faint_grainy_pencil_under_uneven_light_is_the_digit(close_up):
    """Faint pencil under light falling off across the photo: on a sheet on a desk, and in a
    close-up that is all paper (no desk, so no sheet is found), the 7, not the shading's edge."""
    sheet = grainy_pencil_seven()
    photo = sheet.resize((480, 640)) if close_up else on_desk(sheet)
    digit = handwriting.to_mnist(under_uneven_light(photo))
    assert_looks_like_mnist(digit)
    assert (digit > 0.5).mean() < 0.25  # a stroke, not a lit rectangle or wedge of shading
    assert best_correlation(digit, clean_seven()) > 0.75  # (measured 0.79 on the desk, 0.98 close up)


# ---------------------------------------------------------------- the same digits as before the package


def test_pinned_images_give_the_pinned_digits():
    """tests/pinned_digits.npz: what commit caa491e gave for drawings, sheet photos and load_digits renders."""
    pins = np.load(pinned_digits.PINS)
    images = pinned_digits.inputs()
    assert list(images) == list(pins["names"])
    for name, image, sha256, expected in zip(pins["names"], images.values(), pins["sha256"], pins["digits"]):
        digit = pinned_digits.read(image, handwriting.read_digit_bytes, handwriting.to_mnist)
        # (the drawings on a desk encode to other JPEG bytes on some CPUs, and still give the pinned digit)
        same_input = "" if pinned_digits.sha256(image) == sha256 else " (the input itself changed on this machine)"
        np.testing.assert_allclose(digit, expected, atol=1e-5, err_msg=name + same_input)
    assert list(pinned_digits.blank_inputs()) == list(pins["blank_names"])
    for name, image in pinned_digits.blank_inputs().items():
        with pytest.raises(UserError, match="no digit found"):
            handwriting.read_digit_bytes(image, name)


def test_ruled_lines_are_erased_and_dotted_rows_are_not():
    """Three ruled lines are erased; three rows of dots (ink along an eighth of their length, as paper grain
    or a row of digits that the Hough transform joins across its gaps) are not ruling and stay."""
    from handwriting.pipeline import remove_ruled_lines

    ruled, dotted = np.zeros((120, 160)), np.zeros((120, 160))
    for y in (30, 60, 90):
        ruled[y, 5:155] = 1.0
        dotted[y, 5:155:8] = 1.0
    assert remove_ruled_lines(ruled)[[30, 60, 90], 10:150].max() < 0.1
    np.testing.assert_array_equal(remove_ruled_lines(dotted), dotted)
