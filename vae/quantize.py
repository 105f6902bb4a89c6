"""int8 storage for the shipped model's weights and its maps' codes (the repository's size budget).

Symmetric per-row quantization ("per-channel" in Krishnamoorthi 2018, "Quantizing deep convolutional
networks for efficient inference: A whitepaper", section 2.1): each row r keeps one scale
s_r = max|x_r| / 127 and its values as round(x / s_r) in [-127, 127], so a row's error is at most
s_r / 2 and a row of small values is not drowned by a row of large ones. A quarter of fp32's bytes.
Only the stored values are int8: loading multiplies them back, and every computation stays in fp32.
A matrix `name` is stored as two tensors, `name` (int8) and `name + SCALE_SUFFIX` (fp16, rows x 1).
"""

import torch

LEVELS = 127  # -127..127: symmetric, so 0 stays exactly 0 and -128 is never used
SCALE_SUFFIX = ":scale"  # ":" is in no parameter name, so a scale never clashes with a weight


def quantize_rows(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(int8 values, fp16 scales (rows, 1)) of a 2-D tensor. Raises ValueError for NaN or inf, or
    for a row too large for an fp16 scale (a largest value beyond about 8.3e6)."""
    x = x.detach().float()
    if x.dim() != 2:
        raise ValueError(f"int8 rows need a 2-D tensor, not shape {tuple(x.shape)}")
    if not x.isfinite().all():
        raise ValueError("NaN or inf cannot be stored in int8")
    # the scale is rounded to fp16 first, so the values are quantized with the scale that is stored;
    # a row whose largest value is below 127 * 6.1e-5 (fp16's smallest normal number) gets that scale
    scale = (x.abs().amax(dim=1, keepdim=True) / LEVELS).half().clamp_min(torch.finfo(torch.float16).tiny)
    if not scale.isfinite().all():
        raise ValueError("a row's largest value is beyond what an fp16 scale can hold")
    values = torch.round(x / scale.float()).clamp(-LEVELS, LEVELS).to(torch.int8)
    return values, scale


def dequantize_rows(values: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """The fp32 matrix of stored int8 values and their scales. Raises ValueError, saying what is
    wrong, for a pair that quantize_rows cannot have written."""
    if values.dtype != torch.int8 or values.dim() != 2:
        raise ValueError(f"int8 rows must be a 2-D int8 tensor, not {values.dtype} of shape {tuple(values.shape)}")
    if not scale.is_floating_point() or tuple(scale.shape) != (values.shape[0], 1):
        raise ValueError(f"the scales must be floats of shape ({values.shape[0]}, 1), "
                         f"not {scale.dtype} of shape {tuple(scale.shape)}")
    if not scale.isfinite().all():
        raise ValueError("the scales hold NaN or inf")
    return values.float() * scale.float()


def rounded_rows(x: torch.Tensor) -> torch.Tensor:
    """x as int8 storage gives it back (fp32)."""
    return dequantize_rows(*quantize_rows(x))


def packed(name: str, x: torch.Tensor) -> dict:
    """{name: int8 values, name + SCALE_SUFFIX: scales}, ready for a safetensors file."""
    values, scale = quantize_rows(x)
    return {name: values, name + SCALE_SUFFIX: scale}


def unpacked(tensors: dict, name: str) -> torch.Tensor:
    """tensors[name], multiplied back by its scales if it is stored as int8 rows. Raises ValueError
    for int8 values without their scales, or scales that do not fit them."""
    value = tensors[name]
    if value.dtype != torch.int8:
        return value
    if name + SCALE_SUFFIX not in tensors:
        raise ValueError(f"{name} is int8 without its scale ({name + SCALE_SUFFIX})")
    try:
        return dequantize_rows(value, tensors[name + SCALE_SUFFIX])
    except ValueError as e:
        raise ValueError(f"{name}: {e}") from None
