"""The benchmark grid on a GPU: tensorad's compiled rows on CUDA tensors (torch) and cupy
arrays, beside numpy's formula and the peers, in the same table as ``python -m benchmarks``.

    python -m benchmarks.gpu [any option of python -m benchmarks]

It finds which of torch-cuda and cupy can run here and passes them as ``--backend``; on a
machine without a GPU it says so and exits 0 without running anything.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def gpu_backends() -> tuple[list[str], list[str]]:
    """The GPU backends that can run here, and why each other one cannot."""
    found: list[str] = []
    missing: list[str] = []
    try:
        import torch

        if torch.cuda.is_available():
            found.append("torch-cuda")
        else:
            missing.append("torch-cuda: torch sees no CUDA device")
    except ImportError:
        missing.append("torch-cuda: torch is not installed")
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() > 0:
            found.append("cupy")
        else:
            missing.append("cupy: no CUDA device")
    except Exception as error:  # ImportError, or cupy's CUDA runtime errors without a driver
        missing.append(f"cupy: {type(error).__name__}: {error}")
    return found, missing


def main(argv: Sequence[str] | None = None) -> int:
    found, missing = gpu_backends()
    for line in missing:
        print(f"note: {line}", file=sys.stderr)
    if not found:
        print("no GPU backend can run on this machine: nothing to time", file=sys.stderr)
        return 0
    from benchmarks.__main__ import main as benchmarks

    return benchmarks([*(sys.argv[1:] if argv is None else argv), "--backend", ",".join(found)])


if __name__ == "__main__":
    sys.exit(main())
