"""Specification of int8 row storage (vae/quantize.py)."""
import pytest
import torch

from vae.quantize import dequantize_rows, packed, quantize_rows, rounded_rows, unpacked


def test_each_value_comes_back_within_about_half_a_step_of_its_rows_scale():
    x = torch.randn(50, 30) * torch.logspace(-2, 1, 50)[:, None]  # rows of very different sizes
    values, scale = quantize_rows(x)
    assert values.dtype == torch.int8 and scale.dtype == torch.float16 and scale.shape == (50, 1)
    step = x.abs().amax(dim=1, keepdim=True) / 127
    # half a step of the stored scale, which fp16 rounds by at most 2^-11
    assert ((dequantize_rows(values, scale) - x).abs() <= 0.5 * (1 + 2**-11) * step * 1.0001).all()


def test_the_largest_value_of_a_row_is_stored_exactly_as_plus_or_minus_127():
    values, _ = quantize_rows(torch.tensor([[0.5, -2.0, 1.0], [3.0, 0.0, -1.0]]))
    assert values.abs().amax(dim=1).tolist() == [127, 127]


def test_a_row_of_zeros_stays_zeros():
    assert torch.equal(rounded_rows(torch.zeros(2, 5)), torch.zeros(2, 5))


def test_stored_values_stored_again_come_out_the_same():
    x = torch.randn(20, 16)
    values, scale = quantize_rows(x)
    again_values, again_scale = quantize_rows(dequantize_rows(values, scale))
    assert torch.equal(values, again_values) and torch.equal(scale, again_scale)


def test_nan_or_inf_or_a_vector_is_refused():
    with pytest.raises(ValueError, match="NaN or inf"):
        quantize_rows(torch.tensor([[1.0, float("nan")]]))
    with pytest.raises(ValueError, match="NaN or inf"):
        quantize_rows(torch.tensor([[1.0, float("inf")]]))
    with pytest.raises(ValueError, match="2-D"):
        quantize_rows(torch.ones(3))


def test_a_row_too_large_for_an_fp16_scale_is_refused():
    with pytest.raises(ValueError, match="fp16 scale"):
        quantize_rows(torch.tensor([[1e7, 1.0]]))


def test_packed_rows_unpack_and_bad_scales_get_a_message():
    x = torch.randn(4, 3)
    tensors = packed("w", x)
    assert set(tensors) == {"w", "w:scale"}
    torch.testing.assert_close(unpacked(tensors, "w"), rounded_rows(x), rtol=0, atol=0)
    assert unpacked({"b": torch.ones(3)}, "b").dtype == torch.float32  # not int8: as it is
    with pytest.raises(ValueError, match="without its scale"):
        unpacked({"w": tensors["w"]}, "w")
    with pytest.raises(ValueError, match=r"shape \(4, 1\)"):
        unpacked({**tensors, "w:scale": torch.ones(1, 3)}, "w")
    with pytest.raises(ValueError, match="NaN or inf"):
        unpacked({**tensors, "w:scale": torch.full((4, 1), float("nan"))}, "w")
