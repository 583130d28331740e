// Makes rust-ids.json: the ids Hugging Face's Rust tokenizers (the Python package) gives for the
// held-out lines with each small trained tokenizer.json (trained-models.ts). CI has no Python
// tokenizers, so the ids are committed. Made with tokenizers 0.23.2 installed under /tmp:
//   /usr/bin/python3 -m pip install --no-deps --target /tmp/py tokenizers
//   PYTHONPATH=/tmp/py node --import tsx test/operators/tokenize/train/make-rust-ids.ts
//   npx biome format --write test/operators/tokenize/train/rust-ids.json
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { heldOutLines, trainSmall, TYPES } from './trained-models.ts';

const dir = mkdtempSync(join(tmpdir(), 'flowlm-rust-ids-'));
try {
  const files = await Promise.all(TYPES.map(async (t) => [t, (await trainSmall(t, dir))[0]!] as const));
  writeFileSync(join(dir, 'lines.json'), JSON.stringify(heldOutLines()));
  const script = `
import json, sys, tokenizers
from tokenizers import Tokenizer
lines = json.load(open(sys.argv[1], encoding='utf-8'))
out = {'tokenizers': tokenizers.__version__}
for pair in sys.argv[2:]:
    name, path = pair.split('=', 1)
    t = Tokenizer.from_file(path)
    out[name] = [t.encode(l, add_special_tokens=False).ids for l in lines]
print(json.dumps(out))`;
  const ids = execFileSync('/usr/bin/python3', [
    '-c',
    script,
    join(dir, 'lines.json'),
    ...files.map(([t, f]) => `${t}=${f}`),
  ]);
  writeFileSync(fileURLToPath(new URL('./rust-ids.json', import.meta.url)), ids);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
