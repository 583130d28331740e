#!/usr/bin/python3
"""Golden reference for flowlm's LoRA (test/nn/lora.test.ts): logits, loss and the gradient of every
adapter parameter of a tiny GPT with LoRA, computed by an independent PyTorch implementation in float64.

LoRA as Hugging Face PEFT computes it for GPT-2's Conv1D layers (peft/tuners/lora/layer.py, Linear.forward
with fan_in_fan_out=True): result = x W + b + scaling * lora_B(lora_A(dropout(x))), lora_A.weight [r, in],
lora_B.weight [out, r], scaling = lora_alpha / r (use_rslora: lora_alpha / sqrt(r)). B is nonzero here
(the formula's values), so the adapter path is really exercised; dropout is 0 (deterministic).

Run with Debian's PyTorch (apt-get install python3-torch):
    /usr/bin/python3 test/nn/golden/make_lora_golden.py   # writes test/nn/golden/lora.json

Weights come from make_golden.py's `param_value` formula (adapter matrices 0.1u like other matrices),
recomputed by test/nn/golden-params.ts, so the file holds only inputs and results.
"""
import json, math, os, sys
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import allowed, b64, make_params, param_value, position_ids  # noqa: E402

torch.set_default_dtype(torch.float64)

TARGETS = ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj']

def target_shape(c, t):
    d, f = c['dModel'], c['mlpRatio'] * c['dModel']
    return {'attn.c_attn': (d, 3 * d), 'attn.c_proj': (d, d), 'mlp.c_fc': (d, f), 'mlp.c_proj': (f, d)}[t]

def lora_params(c):
    l = c['lora']
    out = {}
    for i in range(c['nLayer']):
        for t in TARGETS:
            if t not in l.get('targets', ['attn.c_attn']): continue  # flowlm's default target
            n_in, n_out = target_shape(c, t)
            for name, shape in ((f'h.{i}.{t}.lora_A.weight', (l['r'], n_in)), (f'h.{i}.{t}.lora_B.weight', (n_out, l['r']))):
                n = shape[0] * shape[1]
                u = np.array([param_value(name, k) for k in range(n)], dtype=np.float64)
                v = (0.1 * u).astype(np.float32).astype(np.float64).reshape(shape)
                out[name] = torch.tensor(v, requires_grad=True)
    return out

def forward(P, L, c, ids):
    """The GPT of make_golden.py (pre-LN, learned positions, causal) with every projection through `lin`."""
    B, T = ids.shape
    d, H = c['dModel'], c['nHead']
    hd = d // H
    l = c['lora']
    scaling = l['alpha'] / math.sqrt(l['r']) if l.get('rslora') else l['alpha'] / l['r']
    def lin(x, name):
        y = x @ P[name + '.weight'] + P[name + '.bias']
        if name + '.lora_A.weight' in L:
            # PEFT: lora_B(lora_A(x)) with nn.Linear weights, i.e. x A^T B^T
            y = y + (x @ L[name + '.lora_A.weight'].T @ L[name + '.lora_B.weight'].T) * scaling
        return y
    ln = lambda x, n: F.layer_norm(x, (d,), P[n + '.weight'], P[n + '.bias'], 1e-5)
    x = P['wte.weight'][ids] + P['wpe.weight'][position_ids(B, T, None)]
    mask = allowed(B, T, True, None)
    for i in range(c['nLayer']):
        h = f'h.{i}'
        u = ln(x, h + '.ln_1')
        q, k, v = lin(u, h + '.attn.c_attn').split(d, dim=2)
        q, k, v = [t.view(B, T, H, hd).transpose(1, 2) for t in (q, k, v)]
        att = ((q @ k.transpose(-2, -1)) / math.sqrt(hd)).masked_fill(~mask, float('-inf')).softmax(-1)
        x = x + lin((att @ v).transpose(1, 2).reshape(B, T, d), h + '.attn.c_proj')
        u = F.gelu(lin(ln(x, h + '.ln_2'), h + '.mlp.c_fc'), approximate='tanh')
        x = x + lin(u, h + '.mlp.c_proj')
    return ln(x, 'ln_f')

def case(name, c, rows):
    P = make_params(c)
    L = lora_params(c)
    ids = torch.tensor(rows)
    x, y = ids[:, :-1], ids[:, 1:]
    logits = forward(P, L, c, x) @ P['wte.weight'].T
    loss = F.cross_entropy(logits.reshape(-1, c['vocabSize']), y.reshape(-1))
    loss.backward()
    return {'name': name, 'config': c, 'input_ids': rows, 'loss': loss.item(), 'logits': b64(logits.reshape(-1)),
            'grads': {n: b64(p.grad) for n, p in L.items()}}

def main():
    rng = np.random.default_rng(20261206)
    base = {'vocabSize': 48, 'contextLength': 16, 'nLayer': 2, 'nHead': 2, 'dModel': 16, 'mlpRatio': 4,
            'positions': 'learned', 'norm': 'pre', 'causal': True, 'docMasking': False, 'tiedHead': True}
    rows = rng.integers(0, 48, size=(2, 11)).tolist()
    cases = [
        case('r 4, alpha 8, every target', {**base, 'lora': {'r': 4, 'alpha': 8, 'targets': TARGETS}}, rows),
        case('rsLoRA r 2, alpha 4, c_attn and mlp.c_proj',
             {**base, 'lora': {'r': 2, 'alpha': 4, 'rslora': True, 'targets': ['attn.c_attn', 'mlp.c_proj']}}, rows),
        case('default targets (attn.c_attn), r 8, alpha 16', {**base, 'lora': {'r': 8, 'alpha': 16}}, rows),
    ]
    out = {'generator': 'test/nn/golden/make_lora_golden.py', 'torch': torch.__version__, 'dtype': 'float64',
           'param_formula': "make_golden.py's param_value; lora_A and lora_B 0.1u like other matrices, rounded to float32",
           'cases': cases}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lora.json')
    with open(path + '.tmp', 'w') as f:
        json.dump(out, f, indent=1)
    os.replace(path + '.tmp', path)
    print(f'wrote {path}: {len(cases)} cases, {os.path.getsize(path)} bytes', file=sys.stderr)

if __name__ == '__main__':
    main()
