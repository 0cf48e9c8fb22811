"""Reading whole numbers: handwriting.find_digits on numbers drawn here with Pillow, and predict_image.py's answers."""
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

import handwriting
from conftest import run_script
from drawings import draw_seven

# Each digit as pen strokes in a box 1 wide and 1 high (x right, y down), as simple as people write them.
STROKES = {
    "0": [[(0.5 + 0.5 * np.cos(a), 0.5 + 0.5 * np.sin(a)) for a in np.linspace(0, 2 * np.pi, 40)]],
    "1": [[(0.2, 0.25), (0.6, 0), (0.6, 1)]],
    "2": [[(0.5 + 0.5 * np.cos(a), 0.3 + 0.3 * np.sin(a)) for a in np.linspace(-np.pi, 0.15 * np.pi, 20)]
          + [(0, 1), (1, 1)]],
    "4": [[(0.7, 0), (0, 0.65), (1, 0.65)], [(0.7, 0), (0.7, 1)]],
    "5": [[(0.95, 0), (0.1, 0), (0.05, 0.45)]
          + [(0.5 + 0.45 * np.cos(a), 0.7 + 0.3 * np.sin(a)) for a in np.linspace(-0.8 * np.pi, 0.8 * np.pi, 20)]],
    "6": [[(0.9, 0), (0.1, 0.6)] + [(0.5 + 0.45 * np.cos(a), 0.7 + 0.3 * np.sin(a))
                                    for a in np.linspace(np.pi, 3 * np.pi, 30)]],
    "7": [[(0, 0), (1, 0), (0.35, 1)]],
    "8": [[(0.5 + 0.4 * np.cos(a), 0.25 + 0.25 * np.sin(a)) for a in np.linspace(0, 2 * np.pi, 30)],
          [(0.5 + 0.5 * np.cos(a), 0.74 + 0.26 * np.sin(a)) for a in np.linspace(0, 2 * np.pi, 30)]],
}
HEIGHT, WIDTH, GAP, PEN = 100, 60, 35, 9


def draw_number(lines, strokes=STROKES, gap=GAP, size=None, top=60, left=50, line_gap=60):
    """Digits drawn black on white, one line of text after another: (image, box of each digit's ink (l, t, r, b))."""
    width = left * 2 + max(len(line) for line in lines) * (WIDTH + gap)
    img = Image.new("L", size or (width, top * 2 + len(lines) * (HEIGHT + line_gap)), 255)
    draw, boxes = ImageDraw.Draw(img), []
    for row, line in enumerate(lines):
        y = top + row * (HEIGHT + line_gap)
        for col, digit in enumerate(line):
            x = left + col * (WIDTH + gap)
            points = [[(x + u * WIDTH, y + v * HEIGHT) for u, v in stroke] for stroke in strokes[digit]]
            for stroke in points:
                draw.line(stroke, fill=0, width=PEN, joint="curve")
            (x0, y0), (x1, y1) = np.min(np.concatenate(points), axis=0), np.max(np.concatenate(points), axis=0)
            boxes.append((x0 - PEN / 2, y0 - PEN / 2, x1 + PEN / 2, y1 + PEN / 2))
    return img, boxes


def find(img):
    return handwriting.find_digits(handwriting.grayscale(img))


def assert_boxes_near(found, drawn, slack=PEN / 2 + 3):
    for c, box in zip(found, drawn):
        assert np.all(np.abs(np.subtract(c.box, box)) <= slack), (c.box, box)


def test_drawn_number_gives_its_digits_in_reading_order():
    img, drawn = draw_number(["2026"])
    found = find(img)
    assert len(found) == 4
    assert_boxes_near(found, drawn)
    assert [c.line for c in found] == [0, 0, 0, 0]
    assert all(c.image.shape == (28, 28) and c.image.dtype == np.float32 and c.image.max() == 1 for c in found)
    # each digit fitted as a single digit is: its longest side 20 pixels in 28x28
    rows = [np.flatnonzero(c.image.max(axis=1) > 0.2) for c in found]
    assert all(18 <= r[-1] - r[0] + 1 <= 22 for r in rows), [r[-1] - r[0] + 1 for r in rows]


def test_one_digit_is_exactly_what_to_mnist_gives():
    gray = handwriting.grayscale(draw_seven())
    found = handwriting.find_digits(gray)
    assert len(found) == 1 and np.array_equal(found[0].image, handwriting.to_mnist(gray))
    assert np.all(np.abs(np.subtract(found[0].box, (40, 30, 160, 170))) <= 8), found[0].box


@pytest.mark.parametrize("value", [0, 128, 255])
def test_blank_image_has_no_candidates(value):
    assert handwriting.find_digits(handwriting.grayscale(Image.new("L", (400, 200), value))) == []


@pytest.mark.parametrize("number, gap", [("4444", PEN - 5), ("4444", PEN - 7)])
def test_touching_digits_are_split_where_the_ink_is_thinnest(number, gap):
    img, drawn = draw_number([number], gap=gap)  # strokes overlap by 3 or 5 pixels: one piece of ink
    gray = handwriting.grayscale(img)
    assert handwriting.ink_pieces(gray).pieces.max() == 1
    found = handwriting.find_digits(gray)
    assert len(found) == len(number)
    assert_boxes_near(found, drawn, slack=1.5 * PEN)  # cut at a column: a box may hold a neighbour's tip


def test_broken_stroke_two_stroke_4_and_detached_flag_stay_one_digit():
    strokes = dict(STROKES)
    strokes["1"] = [[(0.2, 0.25), (0.6, 0), (0.6, 0.45)], [(0.6, 0.57), (0.6, 1)]]  # the pen skipped
    strokes["4"] = [[(0.6, 0), (0, 0.65), (0.55, 0.65)], [(0.75, 0.05), (0.75, 1)]]  # two strokes that do not meet
    strokes["5"] = [[(0.3, 0.05), (0.95, 0.05)],  # the flag written apart
                    [(0.1, 0.15), (0.05, 0.45)] + STROKES["5"][0][3:]]
    img, drawn = draw_number(["145"], strokes)
    assert handwriting.ink_pieces(handwriting.grayscale(img)).pieces.max() == 6
    found = find(img)
    assert len(found) == 3
    assert_boxes_near(found, drawn)


def test_a_1_beside_a_7_stays_two_digits():
    img, drawn = draw_number(["17", "71"], gap=10)
    found = find(img)
    assert len(found) == 4 and [c.line for c in found] == [0, 0, 1, 1]
    assert_boxes_near(found, drawn)


def test_two_lines_are_read_top_to_bottom_left_to_right():
    img, drawn = draw_number(["45", "78"], strokes=dict(STROKES, **{"4": STROKES["4"]}))
    found = find(img)
    assert [c.line for c in found] == [0, 0, 1, 1]
    assert_boxes_near(found, drawn)


def test_a_fainter_softer_row_under_a_bold_one_is_read_too():
    """A second row written fainter and softer (pencil under marker) is digits, not a shadow: every piece
    is kept whatever the sharpest piece in the image (the judge, not a share of it, tells shadows)."""
    from PIL import ImageFilter

    bold, _ = draw_number(["2047"])
    faint = Image.fromarray((255 - 0.6 * (255 - np.asarray(bold, float))).astype(np.uint8))
    img = Image.fromarray(np.concatenate([np.asarray(bold), np.asarray(faint.filter(ImageFilter.GaussianBlur(2)))]))
    assert [c.line for c in find(img)] == [0] * 4 + [1] * 4


def test_boxes_round_digits_are_left_out_and_a_circle_is_still_a_0():
    """Digits in printed boxes (a form, graph paper's cells): each digit is a candidate, the boxes none; a box
    round one digit leaves exactly the digit alone; a 0 (a loop with paper inside) and a drawn ring round a
    digit (not a rectangle) are not boxes."""
    from PIL import ImageDraw

    img, drawn = draw_number(["2047"])
    draw = ImageDraw.Draw(img)
    for left, *_ in drawn:
        draw.rectangle((left - 12, 38, left + WIDTH + 20, 190), outline=90, width=6)
    found = find(img)
    assert len(found) == 4
    assert_boxes_near(found, drawn)

    one, one_box = draw_number(["7"])
    alone = handwriting.to_mnist(handwriting.grayscale(one))
    ImageDraw.Draw(one).rectangle((20, 20, one.width - 20, one.height - 20), outline=90, width=6)
    found = find(one)
    assert len(found) == 1
    np.testing.assert_allclose(found[0].image, alone, atol=0.05)

    zero, _ = draw_number(["0"])
    assert len(find(zero)) == 1
    ring, _ = draw_number(["7"])
    ImageDraw.Draw(ring).ellipse((15, 15, ring.width - 15, ring.height - 15), outline=0, width=PEN)
    assert find(ring)[0].box[:2] == (15, 15)  # the ring is kept (read with the 7 as one piece of ink)


def test_specks_and_dots_are_not_digits():
    img, drawn = draw_number(["12"])
    draw = ImageDraw.Draw(img)
    for x, y in [(20, 20), (200, 40), (120, 190), (230, 200)]:
        draw.ellipse([x, y, x + 5, y + 5], fill=0)
    found = find(img)
    assert len(found) == 2
    assert_boxes_near(found, drawn)


def test_a_number_on_a_turned_sheet_is_read_along_its_line():
    img, drawn = draw_number(["1247"])
    turned = img.rotate(50, expand=True, fillcolor=255)  # counter-clockwise: the line rises to the right
    found = find(turned)
    assert len(found) == 4
    centres = np.array([((c.box[0] + c.box[2]) / 2, (c.box[1] + c.box[3]) / 2) for c in found])
    assert np.all(np.diff(centres[:, 0]) > 0) and np.all(np.diff(centres[:, 1]) < 0)  # along the line, in order


# ---------------------------------------------------------------- predict_image.py


def test_predict_image_prints_the_number_and_no_digit(small_model, tmp_path):
    draw_number(["2026"])[0].save(tmp_path / "number.png")
    Image.new("L", (300, 200), 255).save(tmp_path / "blank.png")
    result = run_script("predict_image.py", tmp_path / "number.png", "--model", small_model)
    assert result.returncode == 0, result.stderr
    number = result.stdout.strip()
    assert len(number) == 4 and all(ch.isdigit() or ch == "?" for ch in number), number
    assert sum(a == b for a, b in zip(number, "2026")) >= 3, number  # a small model: one digit may be off

    result = run_script("predict_image.py", tmp_path / "blank.png", "--model", small_model)
    assert (result.returncode, result.stdout, result.stderr) == (0, "no digit\n", ""), result.stderr

    result = run_script("predict_image.py", tmp_path, "--model", small_model)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"{tmp_path / 'blank.png'}: no digit", f"{tmp_path / 'number.png'}: {number}"]


def test_predict_image_json_numbers_and_single_digits(small_model, tmp_path):
    img, drawn = draw_number(["45", "78"])
    img.save(tmp_path / "a_number.png")
    draw_seven().save(tmp_path / "b_seven.png")
    Image.new("L", (300, 200), 255).save(tmp_path / "c_blank.png")
    result = run_script("predict_image.py", tmp_path, "--json", "--top-k", 2, "--model", small_model)
    assert result.returncode == 0, result.stderr
    number, seven, blank = json.loads(result.stdout)
    assert set(number) == {"path", "number", "digits"}
    assert len(number["number"]) == 5 and number["number"][2] == " "
    assert [set(d) for d in number["digits"]] == [{"digit", "probability", "box", "probabilities", "top_k"}] * 4
    for entry, box in zip(number["digits"], drawn):
        assert np.all(np.abs(np.subtract(entry["box"], box)) <= PEN / 2 + 3), (entry["box"], box)
        assert len(entry["probabilities"]) == 10 and len(entry["top_k"]) == 2
        assert entry["probability"] == max(entry["probabilities"]) == entry["top_k"][0]["probability"]
    # one digit: the keys scripts read before numbers were read, unchanged
    assert set(seven) == {"path", "number", "digits", "digit", "probability", "top_k"}
    assert seven["digit"] == 7 and seven["number"] == "7" and seven["digits"][0]["digit"] == 7
    assert (blank["number"], blank["digits"]) == ("", [])


def photo_of(img, seed=0, noise=0.02):
    """A drawing as a phone photo of paper: light falling off across it, and the sensor's noise."""
    rng = np.random.default_rng(seed)
    gray = np.asarray(img, np.float64) / 255
    falloff = np.linspace(1, 0.8, gray.shape[1])[None, :]
    return np.clip(gray * 0.85 * falloff + rng.normal(0, noise, gray.shape) + 0.1, 0, 1)


def test_a_textured_photo_of_a_scene_is_no_digit_even_to_a_sure_model():
    """No test of the whole photo rejects it (that rejected real photos of numbers): what is cut out of a scene
    has no digit's shape, so it is no digit even when the model is sure of a digit."""
    from scipy import ndimage

    from handwriting import reading

    rng = np.random.default_rng(1)
    # a scene: shapes of every size and shade (fur, leaves, a desk's clutter), no flat paper anywhere
    scene = sum(ndimage.gaussian_filter(rng.normal(0, 1, (300, 400)), sigma) * sigma for sigma in (1, 3, 8))
    scene = np.clip(0.5 + 0.12 * scene / scene.std(), 0, 1)
    found = handwriting.find_digits(scene)
    assert found and not any(reading.looks_like_a_digit(c.image) for c in found)
    sure = np.tile(np.eye(10)[7], (len(found), 1))  # a model sure that each is a 7
    assert reading.answer(found, sure, sure[None])["number"] == ""


def test_a_photo_of_a_number_on_paper_is_still_read():
    img, drawn = draw_number(["2026"])
    gray = photo_of(img)
    found = handwriting.find_digits(gray)
    assert len(found) == 4
    assert_boxes_near(found, drawn)


def test_the_ink_is_the_tail_farther_from_the_paper():
    """dark_ink: grey paper darkened at the border (a phone's vignetting) is still paper under dark ink; light
    strokes on black are light ink; faint dark strokes under light falling off across the image are dark ink."""
    from handwriting import pipeline

    yy, xx = np.mgrid[-1:1:300j, -1:1:400j]
    strokes = np.zeros((300, 400), bool)
    for left in (60, 160, 260):
        strokes[80:220, left:left + 8] = True
    vignetted = 0.6 - 0.25 * (xx ** 2 + yy ** 2) / 2  # border about 0.43, under half scale: read as dark before
    assert pipeline.dark_ink(np.where(strokes, 0.15, vignetted))
    assert not pipeline.dark_ink(np.where(strokes, 1.0, 0.0))
    falloff = 0.75 - 0.15 * xx  # light falling off across the sheet, wider than the strokes' contrast
    assert pipeline.dark_ink(np.where(strokes, falloff - 0.1, falloff))
