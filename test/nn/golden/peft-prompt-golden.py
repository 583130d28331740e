#!/usr/bin/python3
"""Golden reference for PEFT export of prefix tuning and P-tuning (test/nn/peft-prompt-export.test.ts):
for each adapter of make_prefix_golden.py's cases (same configs, same parameter formula), what Hugging Face
PEFT saves and what it rebuilds from that file, written with PyTorch following peft's source
(github.com/huggingface/peft, read at commit 5d602fdb):
  - saved tensor: BasePromptEncoder._get_adapter_state_dict -> PeftModel.get_prompt_embedding_to_save,
    i.e. prompt_encoder(arange(n)[None])[0] under the name `prompt_embeddings`;
      PrefixEncoder.forward: embedding(prefix), then transform (Linear-tanh-Linear) with prefix_projection;
      PromptEncoder.forward: mlp_head(embedding) or mlp_head(lstm_head(embedding)[0]);
  - rebuilt prefixes: PeftModel.get_prompt with inference_mode (as save_pretrained writes the config):
    embedding.weight.repeat(B, 1, 1).view(B, n, num_layers*2, heads, token_dim // heads)
    .permute([2, 0, 3, 1, 4]).split(num_transformer_submodules*2) -> per layer (keys, values), each
    [B, heads, n, head_dim]; checked here against the training-mode path (make_prefix_golden.prefix_past).
Computed in float64 from float32 parameters; arrays stored base64 float32, batch row 0.

Run with Debian's PyTorch:  /usr/bin/python3 test/nn/golden/peft-prompt-golden.py   (writes peft-prompt.json)
Cross-check a directory `flowlm export --format peft` wrote (prints the prefixes PEFT would rebuild, and
their largest difference from this script's for the config's case):
  /usr/bin/python3 test/nn/golden/peft-prompt-golden.py --check DIR
"""
import json, os, struct, sys
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import b64  # noqa: E402
from make_prefix_golden import make_adapter_params, prefix_past, prompt_embeddings  # noqa: E402  (float64 default)

BASE = {'vocabSize': 32, 'contextLength': 16, 'nLayer': 2, 'nHead': 2, 'dModel': 16, 'mlpRatio': 4,
        'positions': 'learned', 'norm': 'pre', 'causal': True, 'docMasking': False, 'tiedHead': True}
ADAPTERS = [
    ('prefix, 3 tokens, no projection', {'prefix': {'numVirtualTokens': 3}}),
    ('prefix, 4 tokens, projection (hidden 12)', {'prefix': {'numVirtualTokens': 4, 'projection': True, 'encoderHiddenSize': 12}}),
    ('P-tuning v2 (deep prompts), 2 tokens', {'ptuning': {'version': 'v2', 'numVirtualTokens': 2}}),
    ('P-tuning v1, MLP encoder (hidden 12), 4 tokens', {'ptuning': {'numVirtualTokens': 4, 'encoder': 'mlp', 'encoderHiddenSize': 12}}),
    ('P-tuning v1, LSTM encoder (hidden 6, 2 layers), 3 tokens',
     {'ptuning': {'numVirtualTokens': 3, 'encoder': 'lstm', 'encoderHiddenSize': 6, 'encoderNumLayers': 2}}),
]


def is_prefix(c):
    return 'prefix' in c or c.get('ptuning', {}).get('version') == 'v2'


def saved_embeddings(A, c):
    """PEFT's get_prompt_embedding_to_save: the prompt encoder's output for arange(n), row 0."""
    if not is_prefix(c):
        return prompt_embeddings(A, c, 1)[0]
    emb = A['prefix_encoder.embedding.weight']
    x = emb[torch.arange(emb.shape[0]).unsqueeze(0)]
    if 'prefix_encoder.transform.0.weight' in A:  # Linear weights stored [in, out]: x @ W + b
        x = torch.tanh(x @ A['prefix_encoder.transform.0.weight'] + A['prefix_encoder.transform.0.bias'])
        x = x @ A['prefix_encoder.transform.2.weight'] + A['prefix_encoder.transform.2.bias']
    return x[0]


def rebuilt_past(saved, num_layers, heads, token_dim, submodules=1, B=1):
    """PEFT's get_prompt (inference_mode) on a loaded `prompt_embeddings`: per layer (keys, values)."""
    n = saved.shape[0]
    pkv = saved.repeat(B, 1, 1).view(B, n, num_layers * 2, heads, token_dim // heads)
    return [(t[0], t[1]) for t in pkv.permute([2, 0, 3, 1, 4]).split(submodules * 2)]


def case(name, adapter):
    c = {**BASE, **adapter}
    A = make_adapter_params(c)
    with torch.no_grad():
        saved = saved_embeddings(A, c)
        out = {'name': name, 'config': c, 'peft_type': 'PREFIX_TUNING' if is_prefix(c) else 'P_TUNING',
               'shape': list(saved.shape), 'prompt_embeddings': b64(saved)}
        if is_prefix(c):
            past = rebuilt_past(saved, c['nLayer'], c['nHead'], c['dModel'])
            trained = prefix_past(A, c, 1)  # the training-mode path gives the same prefixes
            for (k, v), (tk, tv) in zip(past, trained):
                assert torch.equal(k, tk) and torch.equal(v, tv), name
            out['past'] = [{'key': b64(k[0]), 'value': b64(v[0])} for k, v in past]
    return out


def read_safetensors(path):
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])
    out = {}
    for key, meta in header.items():
        if key == '__metadata__':
            continue
        assert meta['dtype'] == 'F32', meta
        a, b = meta['data_offsets']
        out[key] = torch.from_numpy(np.frombuffer(raw[8 + n + a:8 + n + b], dtype='<f4').copy()).reshape(meta['shape'])
    return out


def check(directory):
    cfg = json.load(open(os.path.join(directory, 'adapter_config.json')))
    t = read_safetensors(os.path.join(directory, 'adapter_model.safetensors'))
    assert list(t) == ['prompt_embeddings'], list(t)
    saved = t['prompt_embeddings'].double()
    ref = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'peft-prompt.json')))
    mine = [c for c in ref['cases'] if c['peft_type'] == cfg['peft_type'] and c['shape'] == list(saved.shape)]
    print(f"{cfg['peft_type']}: prompt_embeddings {list(saved.shape)}")
    if cfg['peft_type'] == 'PREFIX_TUNING':
        past = rebuilt_past(saved, cfg['num_layers'], cfg['num_attention_heads'], cfg['token_dim'],
                            cfg['num_transformer_submodules'])
        for l, (k, v) in enumerate(past):
            print(f'layer {l}: keys {list(k.shape)} values {list(v.shape)}')
    for c in mine:
        buf = np.frombuffer(__import__('base64').b64decode(c['prompt_embeddings']), dtype='<f4')
        diff = (saved.flatten() - torch.from_numpy(buf.astype(np.float64))).abs().max().item()
        print(f"vs '{c['name']}': max |difference| {diff:.3e}")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == '--check':
        return check(sys.argv[2])
    cases = [case(name, adapter) for name, adapter in ADAPTERS]
    out = {'generator': 'test/nn/golden/peft-prompt-golden.py', 'peft_commit': '5d602fdbff04c33c1c4de55cda9d4ae1d7cb7e40',
           'torch': torch.__version__, 'dtype': 'float64',
           'param_formula': "make_golden.py's param_value via make_prefix_golden.make_adapter_params; float32",
           'cases': cases}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'peft-prompt.json')
    with open(path + '.tmp', 'w') as f:
        json.dump(out, f, indent=1)
    os.replace(path + '.tmp', path)
    print(f'wrote {path}: {len(cases)} cases, {os.path.getsize(path)} bytes', file=sys.stderr)


if __name__ == '__main__':
    main()
