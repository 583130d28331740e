#!/usr/bin/python3
"""Golden reference for flowlm's GPT (test/nn/parity.test.ts): loss, every parameter gradient, one
AdamW step and a masked-LM loss, computed by an independent PyTorch implementation in float64.

Run with Debian's PyTorch (apt-get install python3-torch):
    /usr/bin/python3 test/nn/golden/make_golden.py   # writes test/nn/golden/gpt.json

Weights are not stored: both sides compute them from the formula in `param_value` (integer hashing,
exact in JS and Python), so the file holds only inputs and results. Float arrays are base64 float32.
"""
import base64, json, math, os, sys
import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)

def fnv1a(s):
    h = 2166136261
    for c in s.encode():
        h ^= c
        h = (h * 16777619) % 2**32
    return h

def param_value(name, i):
    """Uniform in [-1, 1) from (name, index): multiply-add, then murmur3's finaliser, all mod 2^32."""
    k = (i * 2654435761 + fnv1a(name)) % 2**32
    k ^= k >> 16; k = (k * 0x85EBCA6B) % 2**32
    k ^= k >> 13; k = (k * 0xC2B2AE35) % 2**32
    k ^= k >> 16
    return 2.0 * (k / 2**32) - 1.0

def kind(name):
    if name.startswith('wte.') or name.startswith('wpe.'): return 'embedding'
    if '.ln_' in name or name.startswith('ln_f.'): return 'norm'
    if name.endswith('.bias'): return 'bias'
    return 'weight'

def param_specs(c):
    d, f, V = c['dModel'], c['mlpRatio'] * c['dModel'], c['vocabSize']
    specs = [('wte.weight', (V, d))]
    if c['positions'] == 'learned': specs.append(('wpe.weight', (c['contextLength'], d)))
    for i in range(c['nLayer']):
        h = f'h.{i}'
        specs += [(f'{h}.ln_1.weight', (d,)), (f'{h}.ln_1.bias', (d,)),
                  (f'{h}.attn.c_attn.weight', (d, 3 * d)), (f'{h}.attn.c_attn.bias', (3 * d,)),
                  (f'{h}.attn.c_proj.weight', (d, d)), (f'{h}.attn.c_proj.bias', (d,)),
                  (f'{h}.ln_2.weight', (d,)), (f'{h}.ln_2.bias', (d,)),
                  (f'{h}.mlp.c_fc.weight', (d, f)), (f'{h}.mlp.c_fc.bias', (f,)),
                  (f'{h}.mlp.c_proj.weight', (f, d)), (f'{h}.mlp.c_proj.bias', (d,))]
    if c['norm'] == 'pre': specs += [('ln_f.weight', (d,)), ('ln_f.bias', (d,))]
    if not c['tiedHead']: specs.append(('lm_head.weight', (V, d)))
    return specs

def make_params(c):
    out = {}
    for name, shape in param_specs(c):
        n = int(np.prod(shape))
        u = np.array([param_value(name, i) for i in range(n)], dtype=np.float64)
        k = kind(name)
        if k == 'norm':
            v = 1.0 + 0.1 * u if name.endswith('.weight') else 0.05 * u
        elif k == 'bias':
            v = 0.05 * u
        else:
            v = 0.1 * u
        # the values both sides start from are float32
        out[name] = torch.tensor(v.astype(np.float32).astype(np.float64).reshape(shape), requires_grad=True)
    return out

def sinusoidal(T, d):
    pe = torch.zeros(T, d)
    for p in range(T):
        for i in range(0, d, 2):
            a = p / (10000 ** (i / d))
            pe[p, i] = math.sin(a); pe[p, i + 1] = math.cos(a)
    return pe

def segments(B, T, doc_starts):
    """[B, T] long: the document number of each position (position 0 always starts one)."""
    seg = torch.zeros(B, T, dtype=torch.long)
    if doc_starts is not None:
        for b, starts in enumerate(doc_starts):
            for s in starts:
                if 0 < s < T: seg[b, s:] += 1
    return seg

def allowed(B, T, causal, doc_starts):
    """[B, 1, T, T] bool: query i may see key j."""
    seg = segments(B, T, doc_starts)
    m = seg[:, :, None] == seg[:, None, :]
    if causal: m = m & torch.tril(torch.ones(T, T, dtype=torch.bool))
    return m[:, None]

def position_ids(B, T, doc_starts):
    """[B, T] long: positions from each row's start, or with doc_starts from each document's start
    (Megatron's reset_position_ids)."""
    pos = torch.arange(T).repeat(B, 1)
    if doc_starts is None: return pos
    seg = segments(B, T, doc_starts)
    first = torch.zeros_like(pos)
    for b in range(B):
        for t in range(1, T):
            first[b, t] = t if seg[b, t] != seg[b, t - 1] else first[b, t - 1]
    return pos - first

def forward(P, c, ids, doc_starts):
    B, T = ids.shape
    d, H = c['dModel'], c['nHead']
    hd = d // H
    eps = 1e-5
    ln = lambda x, n: F.layer_norm(x, (d,), P[n + '.weight'], P[n + '.bias'], eps)
    docs = doc_starts if c['docMasking'] else None
    pos = position_ids(B, T, docs)
    x = P['wte.weight'][ids]
    x = x + (P['wpe.weight'][pos] if c['positions'] == 'learned' else sinusoidal(T, d)[pos])
    mask = allowed(B, T, c['causal'], docs)
    def attn(x, h):
        qkv = x @ P[h + '.attn.c_attn.weight'] + P[h + '.attn.c_attn.bias']
        q, k, v = qkv.split(d, dim=2)
        q, k, v = [t.view(B, T, H, hd).transpose(1, 2) for t in (q, k, v)]
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hd)
        att = att.masked_fill(~mask, float('-inf')).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, d)
        return y @ P[h + '.attn.c_proj.weight'] + P[h + '.attn.c_proj.bias']
    def mlp(x, h):
        u = F.gelu(x @ P[h + '.mlp.c_fc.weight'] + P[h + '.mlp.c_fc.bias'], approximate='tanh')
        return u @ P[h + '.mlp.c_proj.weight'] + P[h + '.mlp.c_proj.bias']
    for i in range(c['nLayer']):
        h = f'h.{i}'
        if c['norm'] == 'pre':
            x = x + attn(ln(x, h + '.ln_1'), h)
            x = x + mlp(ln(x, h + '.ln_2'), h)
        else:
            x = ln(x + attn(x, h), h + '.ln_1')
            x = ln(x + mlp(x, h), h + '.ln_2')
    if c['norm'] == 'pre': x = ln(x, 'ln_f')
    return x

def head(P, c):
    return P['wte.weight'] if c['tiedHead'] else P['lm_head.weight']

def b64(t):
    return base64.b64encode(t.detach().numpy().astype('<f4').tobytes()).decode()

def grads_of(P):
    return {n: b64(p.grad) for n, p in P.items()}

def ar_case(name, c, ids_rows, doc_starts, attention_mask, smoothing, adamw=None):
    P = make_params(c)
    rows = torch.tensor(ids_rows)
    x, y = rows[:, :-1], rows[:, 1:]
    h = forward(P, c, x, doc_starts)
    logits = h @ head(P, c).T
    per = F.cross_entropy(logits.reshape(-1, c['vocabSize']), y.reshape(-1), reduction='none', label_smoothing=smoothing)
    w = torch.ones_like(per) if attention_mask is None else torch.tensor(attention_mask, dtype=torch.float64)[:, 1:].reshape(-1)
    loss = (per * w).sum() / w.sum()
    loss.backward()
    out = {'name': name, 'config': c, 'batch': {'input_ids': ids_rows, 'doc_starts': doc_starts, 'attention_mask': attention_mask},
           'label_smoothing': smoothing, 'loss': loss.item(), 'grads': grads_of(P),
           'grad_norm': math.sqrt(sum(float((p.grad ** 2).sum()) for p in P.values()))}
    if adamw:
        decay = [p for n, p in P.items() if kind(n) not in adamw['no_decay']]
        no_decay = [p for n, p in P.items() if kind(n) in adamw['no_decay']]
        opt = torch.optim.AdamW([{'params': decay, 'weight_decay': adamw['weight_decay']}, {'params': no_decay, 'weight_decay': 0.0}],
                                lr=adamw['lr'], betas=tuple(adamw['betas']), eps=adamw['eps'])
        opt.step()
        out['adamw'] = {**adamw, 'params_after': {n: b64(p) for n, p in P.items()}}
    return out

def mlm_case(name, c, inputs, positions, labels, smoothing):
    P = make_params(c)
    x = torch.tensor(inputs)
    h = forward(P, c, x, None).reshape(-1, c['dModel'])[torch.tensor(positions)]
    loss = F.cross_entropy(h @ head(P, c).T, torch.tensor(labels), label_smoothing=smoothing)
    loss.backward()
    return {'name': name, 'config': c, 'mlm': {'inputs': inputs, 'positions': positions, 'labels': labels},
            'label_smoothing': smoothing, 'loss': loss.item(), 'grads': grads_of(P)}

def main():
    rng = np.random.default_rng(20240605)
    base = {'vocabSize': 64, 'contextLength': 16, 'nLayer': 2, 'nHead': 2, 'dModel': 16, 'mlpRatio': 4,
            'positions': 'learned', 'norm': 'pre', 'causal': True, 'docMasking': False, 'tiedHead': True}
    B, T = 3, 12
    rows = rng.integers(0, 64, size=(B, T + 1)).tolist()
    cases = []
    cases.append(ar_case('pre-ln, learned positions, tied head, document masking, padding mask, AdamW',
                         {**base, 'docMasking': True}, rows, [[], [5], [3, 9]],
                         [[1] * (T + 1), [1] * (T + 1), [1] * (T - 1) + [0, 0]], 0.0,
                         adamw={'lr': 1e-2, 'betas': [0.9, 0.95], 'eps': 1e-8, 'weight_decay': 0.1,
                                'no_decay': ['bias', 'norm', 'embedding']}))
    cases.append(ar_case('post-ln, sinusoidal positions, untied head, label smoothing 0.1',
                         {**base, 'norm': 'post', 'positions': 'sinusoidal', 'tiedHead': False}, rows, None, None, 0.1))
    # masked LM: bidirectional attention, a fixed BERT-style corruption (mask token 63)
    inputs = [r[:T] for r in rows]
    positions, labels = [], []
    for b in range(B):
        for t in range(T):
            if rng.random() < 0.25:
                positions.append(b * T + t); labels.append(inputs[b][t])
                u = rng.random()
                if u < 0.8: inputs[b][t] = 63
                elif u < 0.9: inputs[b][t] = int(rng.integers(0, 64))
    cases.append(mlm_case('masked LM, bidirectional, label smoothing 0.05', {**base, 'causal': False}, inputs, positions, labels, 0.05))
    out = {'generator': 'test/nn/golden/make_golden.py', 'torch': torch.__version__, 'dtype': 'float64',
           'param_formula': 'uniform u in [-1,1) from murmur3-finalised (i*2654435761 + fnv1a(name)) mod 2^32; '
                            'norm weight 1+0.1u, norm bias and biases 0.05u, matrices 0.1u; rounded to float32',
           'cases': cases}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'gpt.json')
    with open(path + '.tmp', 'w') as f:
        json.dump(out, f, indent=1)
    os.replace(path + '.tmp', path)
    print(f'wrote {path}: {len(cases)} cases, {os.path.getsize(path)} bytes', file=sys.stderr)

if __name__ == '__main__':
    main()
