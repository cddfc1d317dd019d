"""Every fast-path switch gives the fp32 eager result up to numerical noise."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from adain import (
    AdaINNet,
    Stylizer,
    build_encoder,
)
from adain.runtime.hardware import cpu_has_fast_bf16
from adain.runtime.precision import resolve_precision_name
from adain.runtime.torch_backend import resolve_precision
from tests.helpers import (
    canonical_net,
    genuine_relu3_net,
    make_image,
    psnr,
)


@pytest.fixture
def pair(tmp_path) -> tuple[Path, Path]:
    return make_image(tmp_path / "c.jpg", 72, 56, 1), make_image(tmp_path / "s.jpg", 48, 64, 2)


def test_channels_last_matches_nchw(pair):
    c, s = pair
    a = Stylizer(canonical_net(), "cpu", "fp32", channels_last=False).stylize(c, s, content_size=0, style_size=0)
    b = Stylizer(canonical_net(), "cpu", "fp32", channels_last=True).stylize(c, s, content_size=0, style_size=0)
    assert psnr(a, b) > 60


def test_batched_equals_one_by_one(tmp_path, pair):
    _, s = pair
    st = Stylizer(canonical_net(), "cpu", "fp32")
    contents = [make_image(tmp_path / f"c{i}.jpg", 48 if i % 2 else 40, 40, i) for i in range(5)]
    batched = st.stylize_batch(contents, s, content_size=0, style_size=0, batch_size=2)
    for c, out in zip(contents, batched):
        single = st.stylize(c, s, content_size=0, style_size=0)
        assert out.shape == single.shape
        assert psnr(out, single) > 60


@pytest.mark.parametrize("dtype", ["bf16", "fp16"])
def test_reduced_precision_is_close_random_weights(pair, dtype):
    c, s = pair
    ref = Stylizer(canonical_net(), "cpu", "fp32").stylize(c, s, content_size=0, style_size=0)
    low = Stylizer(canonical_net(), "cpu", dtype).stylize(c, s, content_size=0, style_size=0)
    assert psnr(ref, low) >= 40 if dtype == "fp16" else psnr(ref, low) >= 35


@pytest.mark.shared
def test_bf16_fidelity_real_weights(shared):
    """Real (partial genuine VGG) weights on the shared pairs: bf16 vs fp32 PSNR >= 40 dB."""
    imgs = shared / "images"
    ref = Stylizer(genuine_relu3_net(shared), "cpu", "fp32")
    low = Stylizer(genuine_relu3_net(shared), "cpu", "bf16")
    for c, s in (("cornell.jpg", "mondrian.jpg"), ("lenna.jpg", "la_muse.jpg")):
        a = ref.stylize(imgs / "content" / c, imgs / "style" / s, content_size=96, style_size=96)
        b = low.stylize(imgs / "content" / c, imgs / "style" / s, content_size=96, style_size=96)
        assert psnr(a, b) >= 40, (c, s, psnr(a, b))


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ("fpu sse avx avx2 fma", torch.float32),  # AVX2-only: bf16 would be emulated
        ("avx2 avx512f avx512_bf16", torch.bfloat16),  # AVX512-BF16
        ("avx2 avx512f amx_tile amx_bf16", torch.bfloat16),
    ],  # AMX
)
def test_auto_precision_follows_the_hardware(monkeypatch, flags, expected):
    """Both outcomes of ``auto`` on every machine: the CPU's flags are simulated."""
    monkeypatch.setenv("ADAIN_CPU_FLAGS", flags)
    cpu = torch.device("cpu")
    assert cpu_has_fast_bf16() == (expected == torch.bfloat16)
    assert resolve_precision("auto", cpu) == expected
    assert Stylizer(canonical_net(), "cpu", "auto").dtype == expected
    assert resolve_precision("fp32", cpu) == torch.float32
    assert resolve_precision("bf16", cpu) == torch.bfloat16
    assert resolve_precision_name("auto", "cuda", cuda_bf16=True) == "bf16"
    assert resolve_precision_name("auto", "cuda", cuda_bf16=False) == "fp32"
    assert resolve_precision_name("auto", "mps") == "fp32"


def test_cpu_flags_come_from_proc_cpuinfo_without_override(monkeypatch):
    from adain.runtime.hardware import _proc_cpu_flags, cpu_flags

    monkeypatch.delenv("ADAIN_CPU_FLAGS", raising=False)
    assert cpu_flags() == _proc_cpu_flags()
    monkeypatch.setenv("ADAIN_CPU_FLAGS", "avx2,amx_bf16")
    assert cpu_flags() == {"avx2", "amx_bf16"}


_MALLOC_PROBE = """
import ctypes, json, sys
import torch
from adain.runtime.hardware import keep_freed_memory
applied = keep_freed_memory()
class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]
libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
x = torch.empty(64 << 20, dtype=torch.uint8)
x.fill_(1)
mapped = libc.mallinfo2().hblkhd  # bytes in separate mmap blocks while the tensor lives
del x
kept = libc.mallinfo2().fordblks  # free bytes the heap keeps for reuse after it is freed
print(json.dumps({"applied": applied, "mapped": mapped, "kept": kept}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator setting (Linux)")
@pytest.mark.parametrize("mode", ["tuned", "default"])
def test_keep_freed_memory_reuses_large_blocks(mode):
    """Tuned: a freed 64 MB tensor stays in the heap for the next step (no fresh zero-filled pages);
    ``ADAIN_MALLOC=default``: untouched glibc, which maps and unmaps it."""
    import json
    import os
    import subprocess

    env = {**os.environ, "ADAIN_MALLOC": "" if mode == "tuned" else "default"}
    out = subprocess.run([sys.executable, "-c", _MALLOC_PROBE], env=env, capture_output=True, text=True, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    if mode == "tuned":
        assert r["applied"] is True
        assert r["mapped"] < (64 << 20) and r["kept"] >= (64 << 20)
    else:
        assert r["applied"] is False
        assert r["mapped"] >= (64 << 20) and r["kept"] < (64 << 20)


def test_statistics_stay_fp32_under_bf16(pair):
    _, s = pair
    st = Stylizer(canonical_net(), "cpu", "bf16")
    mean, std = st.style_stats(s, size=0)
    assert mean.dtype == std.dtype == torch.float32


@pytest.mark.slow
def test_compile_matches_eager(pair):
    c, s = pair
    net = AdaINNet(build_encoder("vgg19_small16x"))
    eager = Stylizer(net, "cpu", "fp32").stylize(c, s, content_size=0, style_size=0)
    compiled = Stylizer(net, "cpu", "fp32", compile=True).stylize(c, s, content_size=0, style_size=0)
    assert psnr(eager, compiled) > 50
