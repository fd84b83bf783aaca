#!/usr/bin/python3
"""PyTorch (Python) reference for modnet-bench's `sine-modular` workload.

The same computation as modnet/bench/workloads.cpp `sine-modular`, written as a PyTorch user would:
a modular network with D = 64, K = 16 modules, b = 4, module MLP 4 -> 64 -> 64 -> 1 (ReLU), in the
batched form (one GEMM for all projections, then baddbmm over the [K, in, out] weight stacks,
outputs summed / sqrt(K)), batch 256, Adam (lr 1e-3), MSE, random inputs. One timed step =
zero_grad, forward, loss, backward, Adam step. Timing follows modnet-bench: warm-up steps, a
calibration so that one repeat lasts at least --seconds, then --repeats timed repeats; the median
samples/s is printed. FLOPs use modnet-bench's convention (GEMM FLOPs only, training step = 3x
forward): forward = 2*B*D*K*b + K*2*B*(4*64 + 64*64 + 64*1).

Run it beside modnet-bench, with the same thread count, on an otherwise idle machine:

    build/bin/modnet-bench --workloads sine-modular --threads 2 --json cpp.json
    /usr/bin/python3 scripts/bench_pytorch.py --threads 2 --json py.json

(Debian's /usr/bin/python3 with python3-torch; its torch uses the same system BLAS as the
C++ build.) Compare "samples/s" of the two; the C++ side also reports the per-module loop.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import torch

D, K, B_DIM, HIDDEN, OUT, BATCH = 64, 16, 4, (64, 64), 1, 256


def forward_flops():
    sizes = [B_DIM, *HIDDEN, OUT]
    mlp = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    return 2.0 * BATCH * D * K * B_DIM + K * 2.0 * BATCH * mlp


class Modular(torch.nn.Module):
    """Batched modular network, as modnet::models::Modular (orthonormal projections, nn.Linear init)."""

    def __init__(self):
        super().__init__()
        self.projections = torch.nn.Parameter(torch.linalg.qr(torch.randn(K, D, B_DIM), mode="reduced")[0])
        sizes = [B_DIM, *HIDDEN, OUT]
        self.weights = torch.nn.ParameterList()
        self.biases = torch.nn.ParameterList()
        for a, b in zip(sizes[:-1], sizes[1:]):
            bound = 1.0 / math.sqrt(a)
            self.weights.append(torch.nn.Parameter(torch.empty(K, a, b).uniform_(-bound, bound)))
            self.biases.append(torch.nn.Parameter(torch.empty(K, 1, b).uniform_(-bound, bound)))

    def forward(self, x):
        flat = self.projections.permute(1, 0, 2).reshape(D, K * B_DIM)
        h = (x @ flat).view(x.shape[0], K, B_DIM).transpose(0, 1)  # [K, B, b]
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.baddbmm(b, h, w)
            if i < last:
                h = torch.relu(h)
        return h.sum(0) / math.sqrt(K)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0 = torch's default)")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--seconds", type=float, default=0.5, help="minimum seconds per timed repeat")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", help="also write the result as JSON to this file")
    a = p.parse_args()
    if a.repeats < 1 or a.warmup < 0 or a.seconds <= 0:
        p.error("--repeats must be >= 1, --warmup >= 0 and --seconds > 0")
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    model = Modular()
    x, y = torch.randn(BATCH, D), torch.randn(BATCH, OUT)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()

    def timed(n):
        t0 = time.perf_counter()
        for _ in range(n):
            step()
        return time.perf_counter() - t0

    for _ in range(a.warmup):
        step()
    n = 1
    while True:  # calibration, as modnet-bench
        t = timed(n)
        if t >= a.seconds:
            break
        n = min(max(math.ceil(n * a.seconds / max(t, 1e-9) * 1.05), n + 1), 100 * n)
    step_seconds = [timed(n) / n for _ in range(a.repeats)]
    rates = [BATCH / s for s in step_seconds]
    rate = statistics.median(rates)
    flops = 3.0 * forward_flops()
    result = {
        "benchmark": "pytorch_sine_modular.py",
        "workload": "sine-modular",
        "torch_version": torch.__version__,
        "python": sys.version.split()[0],
        "threads": torch.get_num_threads(),
        "repeats": a.repeats,
        "steps_per_repeat": n,
        "samples_per_second": rate,
        "samples_per_second_min": min(rates),
        "samples_per_second_max": max(rates),
        "step_seconds_median": statistics.median(step_seconds),
        "flops_per_step": flops,
        "gflops": rate / BATCH * flops / 1e9,
    }
    print(f"pytorch sine-modular (torch {torch.__version__}, {result['threads']} threads): "
          f"{rate:.1f} samples/s (median of {a.repeats} x {n} steps; min {min(rates):.1f}, max {max(rates):.1f}), "
          f"{result['step_seconds_median'] * 1e3:.3f} ms/step, {result['gflops']:.2f} GFLOP/s")
    if a.json:
        with open(a.json + ".tmp", "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
        os.replace(a.json + ".tmp", a.json)


if __name__ == "__main__":
    main()
