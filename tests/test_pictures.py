"""The pictures a learner looks at, drawn and measured: labels there, readable, nothing cramped or cut off."""
import numpy as np
import pytest

import compare
import evaluate_final
import harness
import visualize
from plumbing import files

DPI = 100  # files.save_figure's


@pytest.fixture
def drawn(monkeypatch):
    """The figures the code would save, kept open to measure instead."""
    figures = []
    monkeypatch.setattr(files, "save_figure", lambda fig, path, *a, **k: figures.append(fig))
    monkeypatch.setattr(visualize, "save_figure", lambda fig, path, *a, **k: figures.append(fig))
    harness.cli.headless()
    yield figures
    import matplotlib.pyplot as plt
    plt.close("all")


def boxes(fig):
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def test_first_nine_are_labelled(drawn, mnist, tmp_path):
    harness.main(["--data", mnist, "--out", str(tmp_path)])
    (fig,) = drawn
    (_, labels), _ = harness.load_mnist(mnist)
    assert [ax.get_title() for ax in fig.axes] == [f"training image {i}: a {labels[i]}" for i in range(9)]


def test_misclassified_gallery_has_its_title_right_above_readable_labels(drawn):
    rng = np.random.default_rng(0)
    evaluate_final.save_gallery(rng.random((100, 28, 28, 1)), rng.integers(0, 10, 100), rng.integers(0, 10, 100),
                                "unused.png")
    (fig,) = drawn
    renderer = boxes(fig)
    title = fig._suptitle.get_window_extent(renderer)
    first_row = max(ax.title.get_window_extent(renderer).y1 for ax in fig.axes)
    assert 0 <= title.y0 - first_row <= 0.25 * DPI  # no blank band between the title and the first row
    assert title.y1 <= fig.bbox.y1 and all(ax.title.get_fontsize() >= 9 for ax in fig.axes)


def test_comparison_has_whole_epoch_ticks(drawn):
    history = {"val_accuracy": [0.9, 0.93, 0.95]}
    experiments = [{"name": name, "complete": True, "scores": [0.95, 0.96], "histories": [history, history]}
                   for name in ("baseline_cv", "batchnorm_cv")]
    fig = compare.comparison_figure(experiments)
    curve = fig.axes[1]
    assert list(curve.get_xticks()) == [1, 2, 3]


def test_filters_colour_bar_label_has_room(drawn):
    kernels = np.random.default_rng(0).normal(size=(32, 3, 3))
    visualize.draw_filters("conv2d", kernels, "", "unused.png")
    (fig,) = drawn
    renderer = boxes(fig)
    bar = fig.axes[-1]
    label = bar.yaxis.label.get_window_extent(renderer)
    ticks = max(t.get_window_extent(renderer).x1 for t in bar.get_yticklabels() if t.get_text())
    assert label.x0 - ticks >= 4 and label.x1 <= fig.bbox.x1 - 4  # apart from the ticks, inside the picture
    assert label.height <= bar.get_window_extent(renderer).height  # not longer than the bar
