"""int8 storage for the shipped model's weights and its maps' codes (issue 17's history budget).

Symmetric per-row quantization ("per-channel" in Krishnamoorthi 2018, "Quantizing deep convolutional
networks for efficient inference: A whitepaper", section 2.1): each row r keeps one scale
s_r = max|x_r| / 127 and its values as round(x / s_r) in [-127, 127], so a row's error is at most
s_r / 2 and a row of small values is not drowned by a row of large ones. A quarter of fp32's bytes.
Only the stored values are int8: loading multiplies them back, and every computation stays in fp32.
"""

import torch

LEVELS = 127  # -127..127: symmetric, so 0 stays exactly 0 and -128 is never used


def quantize_rows(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(int8 values, fp16 scales (rows, 1)) of a 2-D tensor. Raises ValueError for NaN or inf."""
    x = x.detach().float()
    if x.dim() != 2:
        raise ValueError(f"int8 rows need a 2-D tensor, not shape {tuple(x.shape)}")
    if not x.isfinite().all():
        raise ValueError("NaN or inf cannot be stored in int8")
    # the scale is rounded to fp16 first, so the values are quantized with the scale that is stored;
    # a row whose largest value is below 127 * 6.1e-5 (fp16's smallest normal number) gets that scale
    scale = (x.abs().amax(dim=1, keepdim=True) / LEVELS).half().clamp_min(torch.finfo(torch.float16).tiny)
    values = torch.round(x / scale.float()).clamp(-LEVELS, LEVELS).to(torch.int8)
    return values, scale


def dequantize_rows(values: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return values.float() * scale.float()


def rounded_rows(x: torch.Tensor) -> torch.Tensor:
    """x as int8 storage gives it back (fp32)."""
    return dequantize_rows(*quantize_rows(x))
