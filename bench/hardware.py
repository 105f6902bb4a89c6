"""The hardware ceilings: the dense fp32 and bf16 matmul rates of the device in use, and what the
machine is.

Every efficiency in the report divides by this number, measured in the same run, so that a busy or
throttled machine moves both sides of the ratio together."""

import os
import platform
import time

import torch


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_gflops(device, size=2048, repeats=10, warmup=3, dtype=torch.float32):
    """Best-of-`repeats` rate of one (size x size) @ (size x size) matmul in `dtype`, in GFLOP/s
    (2 * size^3 FLOPs: one multiply and one add per term). Best rather than median: a ceiling is
    what the hardware can do, and on a shared machine other jobs only ever slow a run down.
    bf16 is the ceiling of mixed-precision training: its products accumulate in fp32."""
    device = torch.device(device)
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    out = torch.empty(size, size, device=device, dtype=dtype)
    for _ in range(warmup):  # thread-pool start-up, CPU frequency ramp, cuBLAS heuristics
        torch.mm(a, b, out=out)
    sync(device)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b, out=out)
        sync(device)
        best = min(best, time.perf_counter() - start)
    return {"gflops": 2 * size**3 / best / 1e9, "size": size, "repeats": repeats, "device": str(device),
            "dtype": str(dtype).removeprefix("torch.")}


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine(device):
    """What a reader needs to compare this run with another: CPU, cores, threads, device, torch."""
    device = torch.device(device)
    info = {"cpu": cpu_name(), "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "device": str(device), "torch": torch.__version__, "python": platform.python_version()}
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
        info["tf32"] = torch.backends.cuda.matmul.allow_tf32  # off by default: the ceiling is true fp32
    return info
