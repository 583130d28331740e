#!/usr/bin/python3
"""Loads a safetensors file the way safetensors.torch.load_file does (that package is not in Debian,
so its reader's checks are done here by hand), puts the weights into a PyTorch GPT-2 (Hugging Face
module and parameter names, Conv1D [in, out] layout) with load_state_dict(strict=True), and runs it.

Usage: /usr/bin/python3 load_with_torch.py FILE N_LAYER N_HEAD TOKEN_IDS_JSON
Prints one JSON object: metadata, per-tensor shape and sha256 of its float32 bytes, and the logits of
the last position for the given tokens.
"""
import hashlib, json, struct, sys
import torch
from torch import nn

path, n_layer, n_head, tokens = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4])
buf = open(path, 'rb').read()
(n,) = struct.unpack('<Q', buf[:8])
assert n <= 100_000_000 and 8 + n <= len(buf), 'header length'
assert n % 8 == 0, 'header padded to 8 bytes'
header = json.loads(buf[8:8 + n].decode('utf-8'))
metadata = header.pop('__metadata__', None)
start, state = 0, {}
for name, info in sorted(header.items(), key=lambda kv: kv[1]['data_offsets']):
    b, e = info['data_offsets']
    assert b == start and e >= b, f'{name}: offsets not contiguous'
    count = 1
    for d in info['shape']: count *= d
    assert info['dtype'] == 'F32' and e - b == 4 * count, f'{name}: size does not match shape'
    raw = buf[8 + n + b:8 + n + e]
    state[name] = torch.frombuffer(bytearray(raw), dtype=torch.float32).reshape(info['shape']) if count else torch.zeros(info['shape'])
    start = e
assert 8 + n + start == len(buf), 'data must end the file'

class Conv1D(nn.Module):  # transformers.pytorch_utils.Conv1D: y = x W + b with W of shape [in, out]
    def __init__(self, nx, nf):
        super().__init__(); self.weight = nn.Parameter(torch.empty(nx, nf)); self.bias = nn.Parameter(torch.empty(nf))
    def forward(self, x): return x @ self.weight + self.bias

class Block(nn.Module):
    def __init__(self, d, f):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = nn.Module(); self.attn.c_attn, self.attn.c_proj = Conv1D(d, 3 * d), Conv1D(d, d)
        self.mlp = nn.Module(); self.mlp.c_fc, self.mlp.c_proj = Conv1D(d, f), Conv1D(f, d)
    def forward(self, x):
        B, T, d = x.shape
        q, k, v = self.attn.c_attn(self.ln_1(x)).split(d, dim=2)
        heads = lambda t: t.view(B, T, n_head, d // n_head).transpose(1, 2)
        a = torch.softmax((heads(q) @ heads(k).transpose(-1, -2)) / (d // n_head) ** 0.5
                          + torch.full((T, T), float('-inf')).triu(1), dim=-1) @ heads(v)
        x = x + self.attn.c_proj(a.transpose(1, 2).reshape(B, T, d))
        return x + self.mlp.c_proj(nn.functional.gelu(self.mlp.c_fc(self.ln_2(x)), approximate='tanh'))

class GPT2Model(nn.Module):
    def __init__(self, vocab, ctx, d, f, layers):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, d), nn.Embedding(ctx, d)
        self.h = nn.ModuleList(Block(d, f) for _ in range(layers)); self.ln_f = nn.LayerNorm(d)
    def forward(self, ids):
        x = self.wte(ids) + self.wpe(torch.arange(ids.shape[1]))
        for block in self.h: x = block(x)
        return self.ln_f(x) @ self.wte.weight.T  # head tied to the embedding

vocab, d = state['wte.weight'].shape
model = GPT2Model(vocab, state['wpe.weight'].shape[0], d, state['h.0.mlp.c_fc.weight'].shape[1], n_layer)
model.load_state_dict(state, strict=True)
with torch.no_grad():
    logits = model(torch.tensor([tokens]))[0, -1]
print(json.dumps({
    'metadata': metadata,
    'tensors': {k: {'shape': list(t.shape), 'sha256': hashlib.sha256(t.contiguous().numpy().astype('<f4').tobytes()).hexdigest()} for k, t in state.items()},
    'logits': logits.tolist(),
}))
