"""What a learner sees in the first minutes, run as typed: where a CV run's files went, settings the data
cannot meet, short one-line errors that say what to do, and predict_image.py's --top-k, --show-preprocessed
and --raw answers."""
import os
import re

import pytest

import predict_image
from conftest import assert_one_line_error, run_script
from drawings import draw_seven
from test_numbers import draw_number

SHORT = 200  # characters: an error line that a terminal shows on one or two lines


def error_line(result):
    (line,) = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(line) <= SHORT, (len(line), line)
    return line


def test_a_cv_script_ends_by_saying_where_its_files_are(mnist, tmp_path):
    out = tmp_path / "quick"
    result = run_script("baseline_cv.py", "--data", mnist, "--limit", 300, "--epochs", 1, "--folds", 2, "--out", out)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == f"wrote {out}/: scores.json, learning_curves.png, boxplot.png"
    assert all((out / name).is_file() for name in ("scores.json", "learning_curves.png", "boxplot.png"))


@pytest.mark.parametrize("script", ["baseline_cv.py", "train_final.py", "harness.py"])
def test_a_limit_over_the_datas_size_is_refused_naming_the_size(mnist, tmp_path, script):
    result = run_script(script, "--data", mnist, "--limit", 100000000, cwd=tmp_path)
    assert_one_line_error(result, "--limit 100000000 is more than the data's 60,000 training images",
                          "at most --limit 60000")
    assert result.returncode == 2
    assert [line for line in result.stderr.splitlines() if line != error_line(result)
            and not line.startswith("training on ")] == []  # (train_final.py says first what it trains on)
    assert not os.listdir(tmp_path)


@pytest.mark.parametrize("name, content", [("model.txt", "not a model\n"), ("model.h5", "not a model\n"),
                                           ("model.keras", "")])
def test_a_file_that_is_not_a_model_is_one_short_line(tmp_path, name, content):
    (tmp_path / name).write_text(content)
    result = run_script("predict_image.py", "--model", name, cwd=tmp_path)  # the line is ours, not the path
    assert_one_line_error(result, f"error: {name}: not a loadable Keras model", "train_final.py")
    assert "TFSMLayer" not in error_line(result)


def test_model_not_found_names_the_models_that_are_there(tmp_path):
    for name in ("final_model-epochs2-limit6000.h5", "notes.txt"):
        (tmp_path / name).write_text("")
    result = run_script("predict_image.py", cwd=tmp_path)  # the default, final_model.h5, is not there
    assert_one_line_error(result, "final_model.h5: model file not found",
                          "models in this folder: final_model-epochs2-limit6000.h5; name one with --model")
    assert "notes.txt" not in error_line(result)
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_script("predict_image.py", "--model", empty / "final_model.h5")
    assert_one_line_error(result, "model file not found (train one with: python train_final.py)")


def test_file_names_under_the_grid_are_shortened_in_the_middle():
    assert predict_image.shortened("number_2026.png") == "number_2026.png"
    short = predict_image.shortened("IMG_20261201_0931_number_2026.png")
    assert len(short) == 18 and short.startswith("IMG_2026") and short.endswith("2026.png") and "\u2026" in short


def test_show_preprocessed_says_where_it_saved(small_model, tmp_path):
    draw_seven().save(tmp_path / "a_long_name_of_a_photo_of_a_seven.png")
    grid = tmp_path / "seen.png"
    result = run_script("predict_image.py", tmp_path / "a_long_name_of_a_photo_of_a_seven.png", "--model", small_model,
                        "--show-preprocessed", grid)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == f"what the model sees: {grid}" and grid.is_file()


def test_topk_on_a_number_prints_one_line_per_digit(small_model, tmp_path):
    draw_number(["2026"])[0].save(tmp_path / "number.png")
    result = run_script("predict_image.py", tmp_path / "number.png", "--model", small_model, "--top-k", 2)
    assert result.returncode == 0, result.stderr
    number, *digits = result.stdout.splitlines()
    assert re.fullmatch(r"[0-9?]{4}", number), result.stdout
    guess = r"\d \(p=[01]\.\d{3}\)"
    assert [re.fullmatch(rf"  digit {i}: (\? )?{guess}, {guess}", line) is not None
            for i, line in enumerate(digits, 1)] == [True] * 4, digits


@pytest.mark.parametrize("ink, paper, hinted", [(0, 255, True), (255, 0, False)])
def test_raw_says_when_its_answer_is_likely_wrong(small_model, tmp_path, ink, paper, hinted):
    draw_seven(ink=ink, paper=paper).save(tmp_path / "seven.png")
    result = run_script("predict_image.py", tmp_path / "seven.png", "--raw", "--model", small_model)
    assert result.returncode == 0 and re.fullmatch(r"\d", result.stdout.strip()), result.stderr
    hints = [line for line in result.stderr.splitlines() if "hint" in line]
    assert hints == ([f"predict_image.py: hint: {tmp_path / 'seven.png'} is dark ink on light paper; --raw skips "
                      "making digits look like MNIST's (light ink on black), so the answer is likely wrong: "
                      "leave out --raw"] if hinted else [])
