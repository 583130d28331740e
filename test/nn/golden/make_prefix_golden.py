#!/usr/bin/python3
"""Golden reference for prefix tuning and P-tuning (test/nn/prefix-ptuning.test.ts): logits, loss and
every parameter's gradient of a tiny GPT-2 with each adapter, computed by an independent PyTorch
implementation in float64 that follows Hugging Face PEFT:
  - prefix tuning: PrefixEncoder (embedding [n, layers*2*d], or embedding [n, d] -> Linear -> tanh ->
    Linear with prefix_projection), then get_prompt's view(B, n, layers*2, heads, head_dim)
    .permute([2, 0, 3, 1, 4]).split(2) into each layer's past keys/values; GPT-2 with a past of length n
    gives the real tokens positions n..n+T-1 and lets every query see the whole past;
  - P-tuning v1: PromptEncoder (MLP: Linear-ReLU-Linear-ReLU-Linear; LSTM: torch.nn.LSTM bidirectional,
    batch_first, then Linear-ReLU-Linear) on embedding(arange(n)) expanded over the batch, concatenated
    before the token embeddings (inputs_embeds), so virtual tokens take positions 0..n-1;
  - P-tuning v2: the prefix without projection.
The loss is flowlm's packed-row loss (targets row[1..T] at the real positions, weights from the padding
mask); logits at the real positions are PEFT's. flowlm stores Linear weights [in, out] (GPT-2's Conv1D
layout): here x @ W + b, and the LSTM gets the transposes loaded into torch.nn.LSTM.

Run with Debian's PyTorch:  /usr/bin/python3 test/nn/golden/make_prefix_golden.py  (writes prefix.json)
Weights come from make_golden.py's param_value formula (not stored); float arrays are base64 float32.
"""
import json, math, os, sys
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import param_value, make_params, sinusoidal, allowed, position_ids, head, b64  # noqa: E402

torch.set_default_dtype(torch.float64)


def adapter_specs(c):
    """(name, shape, kind) of the adapter parameters, as src/nn/adapters/prefix.ts and ptuning.ts."""
    d, L = c['dModel'], c['nLayer']
    out = []
    dense = lambda n, i, o: [(n + '.weight', (i, o), 'weight'), (n + '.bias', (o,), 'bias')]
    pre = c.get('prefix') or (c['ptuning'] if c.get('ptuning', {}).get('version') == 'v2' else None)
    if pre:
        n = pre['numVirtualTokens']
        if pre.get('projection'):
            H = pre.get('encoderHiddenSize', d)
            out += [('prefix_encoder.embedding.weight', (n, d), 'embedding')]
            out += dense('prefix_encoder.transform.0', d, H) + dense('prefix_encoder.transform.2', H, L * 2 * d)
        else:
            out += [('prefix_encoder.embedding.weight', (n, L * 2 * d), 'embedding')]
    pt = c.get('ptuning')
    if pt and pt.get('version', 'v1') == 'v1':
        n, H = pt['numVirtualTokens'], pt.get('encoderHiddenSize', d)
        out += [('prompt_encoder.embedding.weight', (n, d), 'embedding')]
        if pt.get('encoder', 'mlp') == 'mlp':
            out += dense('prompt_encoder.mlp_head.0', d, H) + dense('prompt_encoder.mlp_head.2', H, H)
            out += dense('prompt_encoder.mlp_head.4', H, d)
        else:
            for l in range(pt.get('encoderNumLayers', 2)):
                for sfx in (f'l{l}', f'l{l}_reverse'):
                    out += [(f'prompt_encoder.lstm_head.weight_ih_{sfx}', (d if l == 0 else 2 * H, 4 * H), 'weight'),
                            (f'prompt_encoder.lstm_head.weight_hh_{sfx}', (H, 4 * H), 'weight'),
                            (f'prompt_encoder.lstm_head.bias_ih_{sfx}', (4 * H,), 'bias'),
                            (f'prompt_encoder.lstm_head.bias_hh_{sfx}', (4 * H,), 'bias')]
            out += dense('prompt_encoder.mlp_head.0', 2 * H, 2 * H) + dense('prompt_encoder.mlp_head.2', 2 * H, d)
    return out


def make_adapter_params(c):
    P = {}
    for name, shape, kind in adapter_specs(c):
        u = np.array([param_value(name, i) for i in range(int(np.prod(shape)))], dtype=np.float64)
        v = (0.05 if kind == 'bias' else 0.1) * u
        P[name] = torch.tensor(v.astype(np.float32).astype(np.float64).reshape(shape), requires_grad=True)
    return P


def prefix_past(A, c, B):
    """PEFT's PrefixEncoder + get_prompt: a list over layers of (keys, values), each [B, heads, n, hd]."""
    d, L, H = c['dModel'], c['nLayer'], c['nHead']
    emb = A['prefix_encoder.embedding.weight']
    n = emb.shape[0]
    tokens = torch.arange(n).unsqueeze(0).expand(B, -1)
    kv = emb[tokens]
    if 'prefix_encoder.transform.0.weight' in A:
        kv = torch.tanh(kv @ A['prefix_encoder.transform.0.weight'] + A['prefix_encoder.transform.0.bias'])
        kv = kv @ A['prefix_encoder.transform.2.weight'] + A['prefix_encoder.transform.2.bias']
    kv = kv.view(B, n, L * 2, H, d // H).permute([2, 0, 3, 1, 4]).split(2)
    return [(t[0], t[1]) for t in kv]


def prompt_embeddings(A, c, B):
    """PEFT's PromptEncoder on embedding(arange(n)) for each of B rows: [B, n, d]."""
    pt = c['ptuning']
    emb = A['prompt_encoder.embedding.weight']
    n = emb.shape[0]
    x = emb[torch.arange(n).unsqueeze(0).expand(B, -1)]
    lin = lambda x, k: x @ A[f'prompt_encoder.mlp_head.{k}.weight'] + A[f'prompt_encoder.mlp_head.{k}.bias']
    if pt.get('encoder', 'mlp') == 'mlp':
        return lin(F.relu(lin(F.relu(lin(x, 0)), 2)), 4)
    H, layers = pt.get('encoderHiddenSize', c['dModel']), pt.get('encoderNumLayers', 2)
    lstm = torch.nn.LSTM(input_size=c['dModel'], hidden_size=H, num_layers=layers, bidirectional=True, batch_first=True)
    # torch keeps [4H, in]; flowlm's tensors are the transposes. Route the parameters through the module
    # with gradients flowing back to ours: replace each nn.Parameter by a function of ours.
    for name, _ in list(lstm.named_parameters()):
        ours = A['prompt_encoder.lstm_head.' + name]
        del lstm._parameters[name]
        setattr(lstm, name, ours.T if ours.dim() == 2 else ours)
    lstm._flat_weights = [getattr(lstm, w) for w in lstm._flat_weights_names]
    return lin(F.relu(lin(lstm(x)[0], 0)), 2)


def forward(P, A, c, ids, doc_starts):
    """Hidden states [B, T, d] of the real tokens."""
    B, T = ids.shape
    d, H = c['dModel'], c['nHead']
    hd = d // H
    ln = lambda x, n: F.layer_norm(x, (d,), P[n + '.weight'], P[n + '.bias'], 1e-5)
    docs = doc_starts if c['docMasking'] else None
    x = P['wte.weight'][ids]
    nv = 0
    if c.get('ptuning', {}).get('version', 'v1') == 'v1' and 'ptuning' in c:
        prompts = prompt_embeddings(A, c, B)
        nv = prompts.shape[1]
        x = torch.cat([prompts, x], 1)
    R = nv + T
    past = prefix_past(A, c, B) if 'prefix_encoder.embedding.weight' in A else None
    n_past = past[0][0].shape[2] if past else 0
    pos = position_ids(B, R, docs) + n_past
    x = x + (P['wpe.weight'][pos] if c['positions'] == 'learned' else sinusoidal(n_past + R, d)[pos])
    mask = allowed(B, R, c['causal'], docs)
    if past: mask = torch.cat([torch.ones(B, 1, R, n_past, dtype=torch.bool), mask], -1)

    def attn(x, i):
        h = f'h.{i}'
        qkv = x @ P[h + '.attn.c_attn.weight'] + P[h + '.attn.c_attn.bias']
        q, k, v = qkv.split(d, dim=2)
        q, k, v = [t.view(B, R, H, hd).transpose(1, 2) for t in (q, k, v)]
        if past:  # GPT-2's layer_past: cat((past_key, key), dim=-2)
            k = torch.cat([past[i][0], k], -2)
            v = torch.cat([past[i][1], v], -2)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hd)
        att = att.masked_fill(~mask, float('-inf')).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, R, d)
        return y @ P[h + '.attn.c_proj.weight'] + P[h + '.attn.c_proj.bias']

    def mlp(x, h):
        u = F.gelu(x @ P[h + '.mlp.c_fc.weight'] + P[h + '.mlp.c_fc.bias'], approximate='tanh')
        return u @ P[h + '.mlp.c_proj.weight'] + P[h + '.mlp.c_proj.bias']

    for i in range(c['nLayer']):
        h = f'h.{i}'
        if c['norm'] == 'pre':
            x = x + attn(ln(x, h + '.ln_1'), i)
            x = x + mlp(ln(x, h + '.ln_2'), h)
        else:
            x = ln(x + attn(x, i), h + '.ln_1')
            x = ln(x + mlp(x, h), h + '.ln_2')
    if c['norm'] == 'pre': x = ln(x, 'ln_f')
    return x[:, nv:]


def case(name, c, rows, doc_starts=None, attention_mask=None):
    P, A = make_params(c), make_adapter_params(c)
    ids = torch.tensor(rows)
    x, y = ids[:, :-1], ids[:, 1:]
    logits = forward(P, A, c, x, doc_starts) @ head(P, c).T
    per = F.cross_entropy(logits.reshape(-1, c['vocabSize']), y.reshape(-1), reduction='none')
    w = torch.ones_like(per) if attention_mask is None else torch.tensor(attention_mask, dtype=torch.float64)[:, 1:].reshape(-1)
    loss = (per * w).sum() / w.sum()
    loss.backward()
    return {'name': name, 'config': c, 'batch': {'input_ids': rows, 'doc_starts': doc_starts, 'attention_mask': attention_mask},
            'loss': loss.item(), 'logits': b64(logits.reshape(-1, c['vocabSize'])),
            'adapter_params': [n for n, _, _ in adapter_specs(c)],
            'grads': {n: b64(p.grad) for n, p in {**P, **A}.items()}}


def main():
    rng = np.random.default_rng(20261206)
    base = {'vocabSize': 32, 'contextLength': 16, 'nLayer': 2, 'nHead': 2, 'dModel': 16, 'mlpRatio': 4,
            'positions': 'learned', 'norm': 'pre', 'causal': True, 'docMasking': False, 'tiedHead': True}
    B, T = 2, 7
    rows = rng.integers(0, 32, size=(B, T + 1)).tolist()
    cases = [
        case('prefix, 3 tokens, no projection', {**base, 'prefix': {'numVirtualTokens': 3}}, rows),
        case('prefix, 4 tokens, projection (hidden 12), document masking, padding mask',
             {**base, 'docMasking': True, 'prefix': {'numVirtualTokens': 4, 'projection': True, 'encoderHiddenSize': 12}},
             rows, [[4], []], [[1] * (T + 1), [1] * (T - 1) + [0, 0]]),
        case('P-tuning v2 (deep prompts), 2 tokens, bidirectional, post-LN, sinusoidal, untied',
             {**base, 'causal': False, 'norm': 'post', 'positions': 'sinusoidal', 'tiedHead': False,
              'ptuning': {'version': 'v2', 'numVirtualTokens': 2}}, rows),
        case('P-tuning v1, MLP encoder (hidden 12), 4 tokens',
             {**base, 'ptuning': {'numVirtualTokens': 4, 'encoder': 'mlp', 'encoderHiddenSize': 12}}, rows),
        case('P-tuning v1, LSTM encoder (hidden 6, 2 layers), 3 tokens, sinusoidal, untied',
             {**base, 'positions': 'sinusoidal', 'tiedHead': False,
              'ptuning': {'numVirtualTokens': 3, 'encoder': 'lstm', 'encoderHiddenSize': 6, 'encoderNumLayers': 2}}, rows),
    ]
    out = {'generator': 'test/nn/golden/make_prefix_golden.py', 'torch': torch.__version__, 'dtype': 'float64',
           'param_formula': "make_golden.py's param_value: matrices and embeddings 0.1u, biases 0.05u, norms 1+0.1u / 0.05u; float32",
           'cases': cases}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'prefix.json')
    with open(path + '.tmp', 'w') as f:
        json.dump(out, f, indent=1)
    os.replace(path + '.tmp', path)
    print(f'wrote {path}: {len(cases)} cases, {os.path.getsize(path)} bytes', file=sys.stderr)


if __name__ == '__main__':
    main()
