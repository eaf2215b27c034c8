"""Benchmark: one quick validation run, timed, with what it measured.

MNIST-5k (4,000 train / 1,000 test, probe of 500 test images), ReLU MLP at
its EOC (sigma_w2 = 2, sigma_b2 = 0), depth 20 (21 linear layers), width 256,
SGD with momentum 0.9, batch 128, learning rate 4e-3 (the published value for
20 linear layers), cross-entropy, full-kernel centered alignment; trained
until the smoothed loss falls under 0.1 (measured at initialization and
there). Prints the record's timings, the alignment curves and the predicted
``l*``; ``--out DIR`` keeps the record. ``main(argv)`` returns the timings,
the measured peak and the predicted ``l*`` as a flat dict, for
``python -m benchmarks``.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Sequence

from sigprop.validation import RunConfig, run_experiment, save_record


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depth", type=int, default=20)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--lr", type=float, default=4e-3)
    ap.add_argument("--stop-loss", type=float, default=0.1)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None)
    ap.add_argument("--quiet", action="store_true", help="no INFO logging")
    opts = ap.parse_args(argv)
    if not opts.quiet:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    cfg = RunConfig(
        dataset="mnist5k",
        depth=opts.depth,
        width=opts.width,
        lr=opts.lr,
        stop_loss=opts.stop_loss,
        measure_losses=(),
        max_epochs=300,
        device=opts.device,
        num_threads=opts.threads,
        seed=opts.seed,
    )
    t0 = time.perf_counter()
    rec = run_experiment(cfg)
    wall = time.perf_counter() - t0
    if opts.out:
        print("record:", save_record(rec, opts.out))
    print("status:", rec.status, "stopped by:", rec.stopped_by, rec.failure or "")
    print("timings (s):", json.dumps({k: round(v, 2) for k, v in rec.timings.items()}))
    print("threads:", rec.threads, "device:", rec.device)
    print(rec.layer_numbering)
    for c in rec.checkpoints:
        curve = None if c.alignment is None else [round(v, 4) for v in c.alignment]
        print(
            f"{c.reason:>10} epoch {c.epoch:6.2f} loss_ema {c.loss_ema} "
            f"train acc {c.train_accuracy:.3f} test acc {c.test_accuracy:.3f}"
        )
        print("   A(l), l=1..L+1:", curve)
        print("   peak:", c.peak)
    pred = rec.prediction
    print("c0 (mean pairwise correlation of the probe):", pred.get("c0"))
    for k in ("dataset", "scalar"):
        entry = pred.get(k) or {}
        print(
            f"predicted l* ({k}):",
            entry.get("layer"),
            "boundary:",
            entry.get("boundary"),
            "error:",
            entry.get("error"),
        )

    figures: dict[str, float] = {"wall_s": wall}
    figures.update({f"{k}_s": float(v) for k, v in rec.timings.items()})
    final = rec.peak
    if isinstance(final, dict) and final.get("argmax") is not None:
        figures["measured_peak_argmax_layer"] = float(final["argmax"])
    for k in ("dataset", "scalar"):
        layer = (pred.get(k) or {}).get("layer")
        if layer is not None:
            figures[f"predicted_l_star_{k}"] = float(layer)
    return figures


if __name__ == "__main__":
    main()
