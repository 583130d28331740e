// Loaded tokenizers' encoding speed, one core, against their references in the same run: each
// tokenizer.json (Llama 2's, BERT's, GPT-2's on the flowlm engine and on the general path, a
// SentencePiece unigram converted) against Hugging Face's tokenizers (the JS port), each SentencePiece
// .model against spm_encode (Debian's, native; its process start and id printing included, so its
// figure is a lower bound). The text: paragraphs of State of the Union addresses and Moby-Dick
// (documents split at blank lines), `mb` MB for flowlm, `ref_mb` for the JS reference (slower);
// every tokenizer starts cold (fresh caches). ids_equal: flowlm's ids equal the reference's on the
// reference's text. Figures are medians of `rounds`.
// Args: mb=4 ref_mb=1 rounds=3
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { mobyDickChapters, sotuTexts } from '../operators/ingest/embedded-corpus.ts';
import { IdBuffer } from '../operators/tokenize/engine/id-buffer.ts';
import { hfTokenizer } from '../operators/tokenize/hf/hf-tokenizer.ts';
import type { LoadedTokenizer } from '../operators/tokenize/load/loaded-tokenizer.ts';
import { spmTokenizer } from '../operators/tokenize/spm/spm-tokenizer.ts';
import { FIXTURES, LLAMA2_JSON, bertJson, gpt2Json } from '../test/operators/tokenize/load/references.ts';
import { spmToHf } from '../test/operators/tokenize/load/spm-to-hf.ts';

const arg = (args: string[], name: string, dflt: number) => {
  const v = Number(args.find((x) => x.startsWith(`${name}=`))?.slice(name.length + 1) ?? dflt);
  if (!(v > 0)) throw new Error(`bench tokenizer-load: ${name} must be a positive number`);
  return v;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const r2 = (x: number) => Math.round(x * 100) / 100;

function paragraphs(maxBytes: number): string[] {
  const files = [sotuTexts(), mobyDickChapters()].flatMap((glob) =>
    readdirSync(dirname(glob))
      .filter((f) => f.endsWith('.txt'))
      .sort()
      .map((f) => join(dirname(glob), f)),
  );
  const out: string[] = [];
  let bytes = 0;
  // alternate the two corpora so any prefix has both
  const half = files.length >> 1;
  for (let k = 0; k < files.length && bytes < maxBytes; k++) {
    const f = files[k % 2 === 0 ? k >> 1 : half + (k >> 1)]!;
    for (const p of readFileSync(f, 'utf8').split(/\n\s*\n|(?<=[.!?])\s+(?=[A-Z])/)) {
      if (p.trim().length === 0 || bytes >= maxBytes) continue;
      out.push(p);
      bytes += Buffer.byteLength(p);
    }
  }
  return out;
}

const mbOf = (texts: string[]) => texts.reduce((n, t) => n + Buffer.byteLength(t), 0) / 1e6;

function ours(make: () => LoadedTokenizer, texts: string[], rounds: number): { mbs: number; ids: Int32Array } {
  const times: number[] = [];
  let ids = new Int32Array(0);
  for (let r = 0; r < rounds; r++) {
    const t = make();
    const out = new IdBuffer(1 << 20);
    const t0 = performance.now();
    for (const x of texts) t.encode(x, out);
    times.push(performance.now() - t0);
    ids = out.view().slice();
  }
  return { mbs: mbOf(texts) / (median(times) / 1000), ids };
}

export default async function tokenizerLoadBench(args: string[]): Promise<Record<string, unknown>> {
  const rounds = arg(args, 'rounds', 3);
  const texts = paragraphs(arg(args, 'mb', 4) * 1e6);
  const refTexts = paragraphs(arg(args, 'ref_mb', 1) * 1e6);
  console.log(
    `text: ${texts.length} paragraphs, ${mbOf(texts).toFixed(2)} MB (reference: ${mbOf(refTexts).toFixed(2)} MB)`,
  );
  const results: Record<string, unknown> = {};
  const jsons: Record<string, () => object> = {
    llama2: () => JSON.parse(readFileSync(LLAMA2_JSON, 'utf8')) as object,
    bert: bertJson,
    gpt2: gpt2Json,
    gpt2_general: () => ({ ...gpt2Json(), normalizer: { type: 'NFC' } }),
    spm_unigram_json: () => spmToHf(readFileSync(`${FIXTURES}spm-unigram.model`), 'unigram'),
  };
  for (const [name, load] of Object.entries(jsons)) {
    const json = load();
    const mine = ours(() => hfTokenizer(json, name), texts, rounds);
    const check = ours(() => hfTokenizer(json, name), refTexts, 1);
    const ref = new Tokenizer(structuredClone(json), {});
    const t0 = performance.now();
    const refIds: number[] = [];
    for (const x of refTexts) for (const id of ref.encode(x, { add_special_tokens: false }).ids) refIds.push(id);
    const refMbs = mbOf(refTexts) / ((performance.now() - t0) / 1000);
    const equal = refIds.length === check.ids.length && refIds.every((v, k) => v === check.ids[k]);
    results[name] = {
      flowlm_mb_s: r2(mine.mbs),
      reference_mb_s: r2(refMbs),
      ratio: r2(mine.mbs / refMbs),
      ids_equal: equal,
    };
    console.log(`${name}: flowlm ${mine.mbs.toFixed(2)} MB/s, reference ${refMbs.toFixed(2)} MB/s, ids equal ${equal}`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'flowlm-bench-spm-'));
  try {
    // spm_encode reads lines: the same paragraphs, newlines inside made spaces
    const lines = texts.map((t) => t.replace(/\s*\n\s*/g, ' '));
    writeFileSync(join(dir, 'in.txt'), `${lines.join('\n')}\n`);
    for (const model of ['unigram', 'bpe-bf']) {
      const file = `${FIXTURES}spm-${model}.model`;
      const mine = ours(() => spmTokenizer(readFileSync(file), model), lines, rounds);
      const times: number[] = [];
      let out = '';
      for (let r = 0; r < rounds; r++) {
        const t0 = performance.now();
        out = execFileSync('spm_encode', [`--model=${file}`, '--output_format=id', `--input=${join(dir, 'in.txt')}`], {
          maxBuffer: 1 << 30,
          encoding: 'utf8',
        });
        times.push(performance.now() - t0);
      }
      const refMbs = mbOf(lines) / (median(times) / 1000);
      const want = out
        .split(/\s+/)
        .filter((s) => s.length > 0)
        .map(Number);
      const equal = want.length === mine.ids.length && want.every((v, k) => v === mine.ids[k]);
      results[`spm_${model}`] = {
        flowlm_mb_s: r2(mine.mbs),
        spm_encode_mb_s: r2(refMbs),
        ratio: r2(mine.mbs / refMbs),
        ids_equal: equal,
      };
      console.log(
        `spm ${model}: flowlm ${mine.mbs.toFixed(2)} MB/s, spm_encode ${refMbs.toFixed(2)} MB/s, ids equal ${equal}`,
      );
    }
  } catch (e) {
    console.log(`spm_encode reference skipped: ${(e as Error).message.split('\n')[0]}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
