#!/usr/bin/python3
# Golden values for src/nn/checkpoint/half-precision.ts, from PyTorch (Debian's python3-torch 1.13):
#   /usr/bin/python3 test/nn/golden/half-precision-golden.py > test/nn/golden/half-precision.json
# Float32 inputs are given by their bit patterns (JSON has no -0, NaN or Inf). Per edge value: PyTorch's
# bfloat16 (`t.to(torch.bfloat16)`) and float16 (`t.half()`) bits and the float32 bits they convert back
# to (`.float()`), each value converted as a 0-d tensor: that takes c10's scalar path
# (c10::BFloat16 round_to_nearest_even, c10::detail::fp16_ieee_from_fp32_value). The vectorized CPU
# kernel agrees on every non-NaN value (checked below) but writes bfloat16 NaN as 0xFFFF instead of 0x7FC0.
# numpy's float16 cast is checked to agree with torch's on every non-NaN value too.
# Sweeps (sha256 of the little-endian uint16 output, to keep the file small):
#   bf16_sweep: every f32 pattern (hi << 16) | lo, hi in 0..65535, lo in BF16_LOWS, NaNs left out
#   f16_sweep:  every f32 pattern (hi << 13) | lo, hi in 0..2^19-1, lo in F16_LOWS, NaNs left out
#   f16_decode: all 65536 float16 patterns to float32 (sha256 of the little-endian uint32 output)
#     (torch's tensor path, x86 F16C: a signalling NaN comes back quiet, e.g. 0x7C01 -> 0x7FC02000)
import hashlib
import json
import sys

import numpy as np
import torch


def f32(bits):
    return np.array([bits], dtype=np.uint32).view(np.float32)


def u16(t):
    return int(t.view(torch.int16).item()) & 0xFFFF


def u32(t):
    return int(t.view(torch.int32).item()) & 0xFFFFFFFF


def bits_of(x):
    return int(np.array([x], dtype=np.float32).view(np.uint32)[0])


edges = {
    'zero': 0x00000000,
    'negative zero': 0x80000000,
    'one': bits_of(1.0),
    'minus one': bits_of(-1.0),
    'pi': bits_of(np.pi),
    '+inf': 0x7F800000,
    '-inf': 0xFF800000,
    'nan': 0x7FC00000,
    '-nan': 0xFFC00000,
    'nan with payload': 0x7F800001,
    'largest f32': 0x7F7FFFFF,
    'smallest f32 normal': 0x00800000,
    'smallest f32 subnormal': 0x00000001,
    'largest f32 subnormal': 0x007FFFFF,
    # bfloat16 (same exponent range as f32, 7 mantissa bits)
    'bf16 largest (0x7F7F)': 0x7F7F0000,
    'bf16 largest + half ulp: to inf': 0x7F7F8000,
    'bf16 largest + just under half ulp': 0x7F7F7FFF,
    'bf16 smallest normal': 0x00800000,
    'bf16 smallest subnormal (0x0001)': 0x00010000,
    'bf16 largest subnormal (0x007F)': 0x007F0000,
    'half of bf16 smallest subnormal: tie to 0': 0x00008000,
    'just over half of bf16 smallest subnormal': 0x00008001,
    'tie 1 + 2^-8, even below': 0x3F808000,
    'tie 1 + 3*2^-8, even above': 0x3F818000,
    'tie just below': 0x3F807FFF,
    'tie just above': 0x3F808001,
    'negative tie to even above': 0xBF818000,
    # float16
    'f16 largest 65504': bits_of(65504.0),
    'f16 65519 (to 65504)': bits_of(65519.0),
    'f16 65519.996 (to 65504)': bits_of(65520.0) - 1,
    'f16 65520 (tie: to inf)': bits_of(65520.0),
    '-65520 (to -inf)': bits_of(-65520.0),
    'f16 1e5 (to inf)': bits_of(1e5),
    'f16 smallest normal 2^-14': bits_of(2.0**-14),
    'f16 largest subnormal': bits_of(2.0**-14 - 2.0**-24),
    'f16 largest subnormal + half ulp: to smallest normal': bits_of(2.0**-14 - 2.0**-25),
    'f16 smallest subnormal 2^-24': bits_of(2.0**-24),
    '2^-25: tie to 0': bits_of(2.0**-25),
    'just over 2^-25: to 2^-24': bits_of(2.0**-25) + 1,
    '3*2^-25: tie to 2*2^-24': bits_of(3 * 2.0**-25),
    '5*2^-25: tie to 2*2^-24': bits_of(5 * 2.0**-25),
    '-2^-26: to -0': bits_of(-(2.0**-26)),
    'f16 tie 1 + 2^-11, even below': bits_of(1 + 2.0**-11),
    'f16 tie 1 + 3*2^-11, even above': bits_of(1 + 3 * 2.0**-11),
    'f16 tie 2048 + 1: to 2048': bits_of(2049.0),
    'f16 tie 2048 + 3: to 2052': bits_of(2051.0),
    'f16 subnormal tie 2^-14 - 3*2^-25: to even 0x3FE': bits_of(2.0**-14 - 3 * 2.0**-25),
    'f16 0.1': bits_of(0.1),
    'f16 -0.333': bits_of(-0.333),
}

gen = torch.Generator().manual_seed(15)
randoms = []
for scale in [1e-7, 1e-5, 1e-3, 0.02, 1.0, 100.0, 3e4, 1e30]:
    for v in (torch.randn(16, generator=gen) * scale).tolist():
        randoms.append(bits_of(v))

cases = []
for name, b in list(edges.items()) + [(f'random {i}', b) for i, b in enumerate(randoms)]:
    t = torch.from_numpy(f32(b).copy())[0]
    bf, h = t.to(torch.bfloat16), t.half()
    cases.append(
        {
            'name': name,
            'f32': b,
            'bf16': u16(bf),
            'bf16_f32': u32(bf.float()),
            'f16': u16(h),
            'f16_f32': u32(h.float()),
        }
    )

# the vectorized kernel and numpy agree with the scalar path except for NaN
allbits = np.array([c['f32'] for c in cases], dtype=np.uint32)
x = torch.from_numpy(allbits.view(np.float32).copy())
nan = np.isnan(allbits.view(np.float32))
vb = x.to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
vh = x.half().view(torch.int16).numpy().view(np.uint16)
nh = allbits.view(np.float32).astype(np.float16).view(np.uint16)
for i, c in enumerate(cases):
    if nan[i]:
        continue
    assert vb[i] == c['bf16'] and vh[i] == c['f16'] and nh[i] == c['f16'], c['name']

BF16_LOWS = [0x0000, 0x0001, 0x7FFF, 0x8000, 0x8001, 0xFFFF]
F16_LOWS = [0x0000, 0x0001, 0x0FFF, 0x1000, 0x1001, 0x1FFF]


def sweep(shift, lows):
    hi = np.arange(1 << (32 - shift), dtype=np.uint64)
    b = ((hi[:, None] << shift) | np.array(lows, dtype=np.uint64)[None, :]).reshape(-1).astype(np.uint32)
    f = b.view(np.float32)
    return b[~np.isnan(f)]


def sha(a):
    return hashlib.sha256(a.astype('<u2' if a.dtype == np.uint16 else '<u4').tobytes()).hexdigest()


bsw = sweep(16, BF16_LOWS)
bout = torch.from_numpy(bsw.view(np.float32).copy()).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
hsw = sweep(13, F16_LOWS)
hout = torch.from_numpy(hsw.view(np.float32).copy()).half().view(torch.int16).numpy().view(np.uint16)
assert (hsw.view(np.float32).astype(np.float16).view(np.uint16) == hout).all()
dec = np.arange(65536, dtype=np.uint32).astype(np.uint16)
dout = torch.from_numpy(dec.view(np.int16).copy()).view(torch.float16).float().view(torch.int32).numpy()
dout = dout.view(np.uint32)

json.dump(
    {
        'source': 'PyTorch ' + torch.__version__ + ' (Debian python3-torch), numpy ' + np.__version__
        + '; generated by test/nn/golden/half-precision-golden.py',
        'cases': cases,
        'bf16_sweep': {'lows': BF16_LOWS, 'count': int(bsw.size), 'sha256': sha(bout)},
        'f16_sweep': {'lows': F16_LOWS, 'count': int(hsw.size), 'sha256': sha(hout)},
        'f16_decode': {'count': 65536, 'sha256': sha(dout)},
    },
    sys.stdout,
    indent=1,
)
sys.stdout.write('\n')
