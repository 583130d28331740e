# The PyTorch reference `npm run bench -- train` measures beside flowlm: the same GPT (GPT-2 layout:
# pre-LN blocks, fused q|k|v projection, causal softmax attention, GELU tanh MLP 4x, learned positions,
# head tied to the token embedding, no dropout) trained by AdamW (clipping at 1.0) on random tokens,
# the way nanoGPT's train.py runs on a CPU. Prints one JSON line: the median step time and tokens/s.
# Usage: python3 torch-train-reference.py VOCAB CONTEXT LAYERS HEADS DMODEL BATCH THREADS STEPS
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

V, T, L, H, D, B, THREADS, STEPS = (int(a) for a in sys.argv[1:9])
torch.set_num_threads(THREADS)
torch.manual_seed(0)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(D), nn.LayerNorm(D)
        self.c_attn, self.c_proj = nn.Linear(D, 3 * D), nn.Linear(D, D)
        self.c_fc, self.mlp_proj = nn.Linear(D, 4 * D), nn.Linear(4 * D, D)
        self.register_buffer('causal', torch.ones(T, T).tril() == 0)

    def forward(self, x):
        b, t, _ = x.shape
        q, k, v = (z.view(b, t, H, D // H).transpose(1, 2) for z in self.c_attn(self.ln_1(x)).split(D, dim=2))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(D // H)
        att = att.masked_fill(self.causal[:t, :t], float('-inf')).softmax(-1)
        x = x + self.c_proj((att @ v).transpose(1, 2).reshape(b, t, D))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate='tanh'))


class Gpt(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, D), nn.Embedding(T, D)
        self.h = nn.ModuleList(Block() for _ in range(L))
        self.ln_f = nn.LayerNorm(D)

    def forward(self, idx, targets):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        for block in self.h:
            x = block(x)
        logits = self.ln_f(x) @ self.wte.weight.t()
        return F.cross_entropy(logits.view(-1, V), targets.reshape(-1))


model = Gpt()
opt = torch.optim.AdamW(model.parameters(), lr=3e-4, betas=(0.9, 0.95), weight_decay=0.1)
times = []
for i in range(STEPS + 1):  # the first step (allocation, first-touch) is not timed
    ids = torch.randint(0, V, (B, T + 1))
    t0 = time.perf_counter()
    loss = model(ids[:, :-1], ids[:, 1:])
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    if i > 0:
        times.append(time.perf_counter() - t0)
times.sort()
mid = len(times) // 2
median = times[mid] if len(times) % 2 else (times[mid - 1] + times[mid]) / 2
print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'step_ms': median * 1000,
                  'tokens_per_s': B * T / median}))
