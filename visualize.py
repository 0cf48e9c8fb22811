"""Beyond the tutorial: what the model sees in an image: its first filters, feature maps, the pixels behind its answer.

    python visualize.py                 # sample_image.png and final_model.h5 -> results/visualize/*.png
    python visualize.py --model final_model_augment.h5   # -> results/visualize-final_model_augment/*.png
    python visualize.py my_digit.jpg --model final_model_ensemble.h5 --member 1 --out pictures/

Saves, and prints the paths of:
  filters.png               the first conv layer's filters, one 3x3 tile each, one colour scale centred on 0;
  feature_maps_N_LAYER.png  what each conv and pooling layer puts out for the image, one tile per channel;
  saliency.png              the image as the model sees it (28x28), the pixels its answer rests on
                            (SmoothGrad), and its three most likely digits; one row per digit of a number.
The image is read as predict_image.py reads it. An ensemble's filters and maps are one member's (--member);
its saliency is the mean over the members. docs/visualize.md says what to look for.
"""
import os

import numpy as np

from network import saved_model
from plumbing import cli, files
from plumbing.cli import UserError
from plumbing.files import save_figure

COLUMNS = 8  # tiles per row of a grid
GAP_COLOUR = "#d9d9d9"
# handwriting (scikit-image, SciPy) and network.view (Keras) are imported where they are used, after the
# flags are read: --help and a mistake answer at once, not after the 6-9 s of importing TensorFlow.


def read_digits(path):
    """The image's digits as the model reads them, in reading order: a list of (28, 28, 1)."""
    import handwriting

    candidates = handwriting.find_digits(handwriting.grayscale(handwriting.open_image(path)))
    if not candidates:
        raise UserError(f"{path}: no digit found in the image")
    return [c.image.reshape(28, 28, 1) for c in candidates]


def mosaic(tiles, columns=COLUMNS, gap=1):
    """(n, h, w) tiles -> one 2-D array, `columns` tiles a row, row by row, NaN in the gaps between them."""
    n, h, w = tiles.shape
    columns = min(columns, n)
    rows = -(-n // columns)
    grid = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap), np.nan, dtype="float32")
    for i, tile in enumerate(tiles):
        r, c = divmod(i, columns)
        grid[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = tile
    return grid


def tile_ticks(ax, n, h, w, columns=COLUMNS, gap=1):
    """Label the columns 0.. and the rows by their first tile's number: tile = row label + column label."""
    columns = min(columns, n)
    ax.set_xticks([c * (w + gap) + (w - 1) / 2 for c in range(columns)], [str(c) for c in range(columns)])
    ax.set_yticks([r * (h + gap) + (h - 1) / 2 for r in range(-(-n // columns))],
                  [str(r * columns) for r in range(-(-n // columns))])
    ax.tick_params(length=0, labelsize=7)


def grid_figure(grid_shape, count=1, width=6.4, left=0.6, right=1.6, top=0.5, bottom=0.45, gap=0.25):
    """A figure sized to its content: `count` axes, one above the other, each exactly the shape of a
    `grid_shape` mosaic, and an axes for the colour bar beside them; margins in inches. It is saved as it
    is: cropping it tight would draw it twice (0.3-0.4 s of the seven pictures' drawing, 2-core AMD EPYC)."""
    import matplotlib.pyplot as plt

    grid_height, grid_width = grid_shape
    axes_width = width - left - right
    axes_height = axes_width * grid_height / grid_width
    height = top + bottom + count * axes_height + (count - 1) * gap
    fig = plt.figure(figsize=(width, height))
    axes = [fig.add_axes([left / width, (bottom + (count - 1 - i) * (axes_height + gap)) / height,
                          axes_width / width, axes_height / height]) for i in range(count)]
    bar_axes = fig.add_axes([(width - right + 0.15) / width, bottom / height, 0.15 / width,
                             (height - top - bottom) / height])
    return fig, axes, bar_axes


def colour_map(name):
    import matplotlib

    return matplotlib.colormaps[name].with_extremes(bad=GAP_COLOUR)


def draw_filters(name, kernels, about, path):
    """The first conv layer's kernels, (n, 3, 3), as a grid of tiles on one colour scale centred on 0."""
    n, h, w = kernels.shape
    limit = float(np.abs(kernels).max()) or 1.0
    grid = mosaic(kernels)
    fig, (ax,), bar_axes = grid_figure(grid.shape)
    image = ax.imshow(grid, cmap=colour_map("RdBu_r"), vmin=-limit, vmax=limit, interpolation="nearest")
    tile_ticks(ax, n, h, w)
    ax.set_title(f"Layer {name}{about}\nits {n} filters, {h}x{w} weights each", fontsize=9)
    ax.set_xlabel("filter number = row label + column label", fontsize=8)
    bar = fig.colorbar(image, cax=bar_axes)
    bar.set_label("weight\nred: a bright pixel there\nexcites the filter; blue:\nit inhibits the filter", fontsize=8,
                  labelpad=6)
    bar.ax.tick_params(labelsize=7)
    save_figure(fig, path, tight=False)


def draw_feature_maps(name, maps, labels, about, path):
    """One layer's output for each digit ((h, w, channels) each), one tile per channel, one colour scale."""
    h, w, channels = maps[0].shape
    low, high = min(float(m.min()) for m in maps), max(float(m.max()) for m in maps)
    if low < 0:  # batch normalization's output is signed: centre the scale on 0
        cmap, vmin, vmax = colour_map("RdBu_r"), -max(-low, high), max(-low, high)
    else:
        cmap, vmin, vmax = colour_map("magma"), 0.0, high or 1.0
    grids = [mosaic(np.moveaxis(m, -1, 0)) for m in maps]
    fig, axes, bar_axes = grid_figure(grids[0].shape, len(grids))
    for ax, grid, label in zip(axes, grids, labels):
        image = ax.imshow(grid, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        tile_ticks(ax, channels, h, w)
        ax.set_ylabel(label, fontsize=8)
    axes[0].set_title(f"Layer {name}{about}\noutput {h}x{w}x{channels}: one {h}x{w} map per channel", fontsize=9)
    axes[-1].set_xlabel("channel = row label + column label", fontsize=8)
    bar = fig.colorbar(image, cax=bar_axes)
    bar.set_label("activation (black: 0)" if low >= 0 else "activation (white: 0)", fontsize=7)
    bar.ax.tick_params(labelsize=7)
    save_figure(fig, path, tight=False)


def draw_saliency(digits, maps, probabilities, about, path):
    """Per digit, a row: the 28x28 input, its saliency with the ink's outline, the three most likely digits."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(digits), 3, figsize=(7.6, 2.4 * len(digits)), squeeze=False, layout="constrained",
                             gridspec_kw={"width_ratios": [0.85, 1.15, 1.1]})
    for row, digit, saliency, p in zip(axes, digits, maps, probabilities):
        answer = int(np.argmax(p))
        row[0].imshow(digit[:, :, 0], cmap="gray", vmin=0, vmax=1)
        row[0].set_title("what the model sees (28x28)", fontsize=8)
        heat = row[1].imshow(saliency, cmap="inferno", vmin=0, vmax=1)
        row[1].contour(digit[:, :, 0], levels=[0.3], colors="cyan", linewidths=0.7)
        row[1].set_title(f"pixels behind the answer {answer}{about}", fontsize=8)
        row[1].set_xlabel("cyan: the outline of the ink", fontsize=7)
        bar = fig.colorbar(heat, ax=row[1], fraction=0.046, pad=0.03)
        bar.set_label("how much it counts (1: most)", fontsize=7)
        bar.ax.tick_params(labelsize=7)
        for ax in row[:2]:
            ax.set_xticks([])
            ax.set_yticks([])
        top = np.argsort(-p)[:3]
        row[2].barh(range(3), p[top], color=["tab:blue", "tab:gray", "tab:gray"])
        row[2].set_yticks(range(3), [str(d) for d in top])
        row[2].invert_yaxis()
        row[2].set_xlim(0, 1.2)
        for y, d in enumerate(top):
            row[2].text(p[d] + 0.02, y, f"{p[d]:.3f}", va="center", fontsize=8)
        row[2].set_title("the three most likely digits", fontsize=8)
        row[2].set_xlabel("probability", fontsize=8)
        row[2].set_ylabel("digit", fontsize=8)
        row[2].tick_params(labelsize=8)
    fig.suptitle("SmoothGrad saliency: the gradient of the answer's score, averaged over noisy copies of the input",
                 fontsize=9)
    save_figure(fig, path, tight=False)


def main(argv=None):
    parser = cli.parser_for("visualize.py", __doc__.splitlines()[0])
    parser.add_argument("image", nargs="?", default="sample_image.png", metavar="IMAGE",
                        help="an image of a digit, or of a number (default: sample_image.png)")
    parser.add_argument("--model", default="final_model.h5", metavar="PATH",
                        help="the model to look into (default: final_model.h5)")
    parser.add_argument("--out", metavar="DIR",
                        help="folder for the pictures (default: results/visualize, or results/visualize-<the model "
                             "file's stem> for another model)")
    parser.add_argument("--member", type=int, default=0, metavar="N",
                        help="for an ensemble, the member whose filters and feature maps are shown (default: 0)")
    args = parser.parse_args(argv)
    args.out = args.out or files.run_folder("visualize.py", model=args.model)

    def visualize():
        from network import view

        digits = read_digits(args.image)
        model = saved_model.load(args.model)
        count = len(saved_model.members(model))
        view.pick_member(model, args.member)  # a wrong --member is a one-line error before any work
        member = f" (member {args.member} of members 0-{count - 1})" if count > 1 else ""
        mean = f" (mean of {count} members)" if count > 1 else ""
        probabilities, _ = saved_model.predict(model, np.stack(digits))
        labels = [f"digit {i + 1}: read as {int(np.argmax(p))}" if len(digits) > 1 else f"read as {int(np.argmax(p))}"
                  for i, p in enumerate(probabilities)]
        cli.headless()
        try:
            os.makedirs(args.out, exist_ok=True)
        except OSError as e:
            raise UserError(f"{args.out}: cannot make the folder ({e.strerror})")
        saved = [os.path.join(args.out, "filters.png")]
        draw_filters(view.first_conv(model, args.member).name, view.filters(model, args.member), member,
                     saved[-1])
        layers = [view.feature_maps(model, digit, args.member) for digit in digits]
        for i, name in enumerate(layers[0], start=1):
            saved.append(os.path.join(args.out, f"feature_maps_{i}_{name}.png"))
            draw_feature_maps(name, [maps[name] for maps in layers], labels, member, saved[-1])
        saved.append(os.path.join(args.out, "saliency.png"))
        maps = [view.saliency(model, digit, digit=int(np.argmax(p))) for digit, p in zip(digits, probabilities)]
        draw_saliency(digits, maps, probabilities, mean, saved[-1])
        for path in saved:
            print(path)

    cli.run(visualize, "visualize.py")


if __name__ == "__main__":
    cli.run_then_exit(main)
