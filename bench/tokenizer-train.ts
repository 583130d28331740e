// Tokenizer training speed on the embedded corpus (State of the Union addresses + Moby-Dick chapters,
// ~12 MB), one core: flowlm's byte-level BPE (counting GPT-2 pieces, then merging) against Debian's
// spm_train (SentencePiece 0.1.x, --num_threads=1) training BPE and Unigram models of the same
// vocabulary size on the same text in the same run. spm_train reads the text one sentence a line
// (its lines are capped at 4192 bytes); flowlm counts the documents as they are, already in memory
// (file reading is left out of its time; spm_train's includes reading a 12 MB file, ~0.05 s).
// Vocabulary overlap: flowlm's byte-level tokens that are whole UTF-8 strings, with space written '▁'
// as SentencePiece writes it, against spm's BPE pieces (<unk>, <s>, </s> left out). Compression:
// tokens per byte on the held-out lines of test/fixtures/tokenizers (partly in the training corpus).
// Wall and CPU seconds of both (spm_train's CPU from GNU time): CPU time is less disturbed by other
// work on a shared machine. flowlm's figures are medians of its rounds, which run around spm_train's.
// Args: vocab=8000 rounds=3 (flowlm rounds; spm_train runs once per model type)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mobyDickChapters, sotuTexts } from '../operators/ingest/embedded-corpus.ts';
import { BytePairEncoder } from '../operators/tokenize/engine/bpe.ts';
import { pieceEndGpt2 } from '../operators/tokenize/engine/pretokenize-gpt2.ts';
import { RankTable } from '../operators/tokenize/engine/rank-table.ts';
import { TokenizerTrainer, type TrainedTokenizer } from '../operators/tokenize/train/trainer.ts';
import { jsTiktokenRanks, tiktokenRanks } from '../operators/tokenize/train/write-tiktoken.ts';

const SPM_TRAIN = '/usr/bin/spm_train';
const SPM_ENCODE = '/usr/bin/spm_encode';
const HELD_OUT = fileURLToPath(new URL('../test/fixtures/tokenizers/held-out.txt', import.meta.url));

const arg = (args: string[], name: string, dflt: number) => {
  const v = Number(args.find((x) => x.startsWith(`${name}=`))?.slice(name.length + 1) ?? dflt);
  if (!Number.isInteger(v) || v < 1) throw new Error(`bench tokenizer-train: ${name} must be a positive integer`);
  return v;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

function corpus(): string[] {
  const files = (glob: string) =>
    readdirSync(dirname(glob))
      .filter((f) => /^(chapter_\d+|\d{4}.*)\.txt$/.test(f))
      .sort()
      .map((f) => join(dirname(glob), f));
  return [...files(sotuTexts()), ...files(mobyDickChapters())].map((f) => readFileSync(f, 'utf8'));
}

async function trainFlowlm(docs: string[], vocab: number): Promise<TrainedTokenizer> {
  const t = new TokenizerTrainer({ type: 'bpe', vocabSize: vocab });
  for (const d of docs) t.addText(d);
  return t.finish();
}

/** spm_train's wall and CPU seconds (user + system, from GNU time). */
function spmTrain(text: string, dir: string, type: 'bpe' | 'unigram', vocab: number): { wall: number; cpu: number } {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', [
    '-f',
    'cpu %U %S',
    SPM_TRAIN,
    `--input=${text}`,
    `--model_prefix=${join(dir, type)}`,
    `--model_type=${type}`,
    `--vocab_size=${vocab}`,
    '--num_threads=1',
    '--minloglevel=2',
  ]);
  const wall = (performance.now() - t0) / 1000;
  const m = /cpu ([\d.]+) ([\d.]+)/.exec(r.stderr.toString());
  if (r.status !== 0 || !m)
    throw new Error(`spm_train --model_type=${type} failed: ${r.stderr.toString().slice(-500)}`);
  return { wall, cpu: Number(m[1]) + Number(m[2]) };
}

const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
};

function spmPieces(dir: string, type: string): string[] {
  return readFileSync(join(dir, `${type}.vocab`), 'utf8')
    .split('\n')
    .map((l) => l.split('\t')[0]!)
    .filter((p) => p && !['<unk>', '<s>', '</s>'].includes(p));
}

export default async function bench(args: string[]): Promise<Record<string, unknown>> {
  const vocab = arg(args, 'vocab', 8000);
  const rounds = arg(args, 'rounds', 3);
  const docs = corpus();
  const mb = docs.reduce((s, d) => s + Buffer.byteLength(d), 0) / 1e6;
  const dir = mkdtempSync(join(tmpdir(), 'flowlm-bench-tok-'));
  try {
    // spm_train's input: one sentence a line (whole speeches exceed its 4192-byte line limit)
    const text = join(dir, 'corpus.txt');
    writeFileSync(text, docs.flatMap((d) => d.split(/(?<=[.!?])\s+|\n+/).filter((s) => s.trim())).join('\n'));

    // flowlm's rounds around spm_train's runs, so a busy spell of the machine falls on both
    const secs: number[] = [];
    const cpus: number[] = [];
    const counts: number[] = [];
    const trains: number[] = [];
    let model: TrainedTokenizer | undefined;
    let spmBpe = { wall: 0, cpu: 0 },
      spmUnigram = { wall: 0, cpu: 0 };
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      model = await trainFlowlm(docs, vocab);
      secs.push((performance.now() - t0) / 1000);
      cpus.push(cpuSeconds(c0));
      counts.push(model.stats.countMs / 1000);
      trains.push(model.stats.trainMs / 1000);
      console.log(
        `flowlm bpe round ${r + 1}: ${round(secs[r]!)} s, cpu ${round(cpus[r]!)} s (count ${round(model.stats.countMs / 1000)} s, train ${round(model.stats.trainMs / 1000)} s), ${model.merges} merges`,
      );
      if (r === 0) {
        spmBpe = spmTrain(text, dir, 'bpe', vocab);
        console.log(`spm_train bpe: ${round(spmBpe.wall)} s, cpu ${round(spmBpe.cpu)} s`);
      }
      if (r === 1 || rounds === 1) {
        spmUnigram = spmTrain(text, dir, 'unigram', vocab);
        console.log(`spm_train unigram: ${round(spmUnigram.wall)} s, cpu ${round(spmUnigram.cpu)} s`);
      }
    }

    // vocabulary overlap with spm's BPE
    const bpe = model!.bpe!;
    const utf8 = new TextDecoder('utf-8', { fatal: true });
    const ours = new Set<string>();
    for (const t of bpe.tokens)
      try {
        ours.add(utf8.decode(t).replaceAll(' ', '\u2581'));
      } catch {
        // a token ending inside a UTF-8 sequence is no string: it cannot be a SentencePiece piece
      }
    const theirs = spmPieces(dir, 'bpe');
    const shared = theirs.filter((p) => ours.has(p)).length;

    // compression on held-out lines
    const held = readFileSync(HELD_OUT, 'utf8');
    const enc = new BytePairEncoder(new RankTable(jsTiktokenRanks(tiktokenRanks(bpe))));
    const out = new Int32Array(3 * held.length);
    let n = 0;
    for (let i = 0; i < held.length; ) {
      const j = pieceEndGpt2(held, i, held.length);
      n = enc.encode(held, i, j, out, n);
      i = j;
    }
    const spmTokens = execFileSync(SPM_ENCODE, [`--model=${join(dir, 'bpe.model')}`, '--output_format=id'], {
      input: held,
    })
      .toString()
      .split(/\s+/)
      .filter(Boolean).length;
    const heldBytes = Buffer.byteLength(held);

    const flowSec = median(secs);
    const flowCpu = median(cpus);
    const result = {
      bench: 'tokenizer-train',
      corpus_mb: round(mb),
      vocab,
      flowlm_bpe_s: round(flowSec),
      flowlm_bpe_mb_s: round(mb / flowSec),
      flowlm_bpe_cpu_s: round(flowCpu),
      flowlm_count_s: round(median(counts)),
      flowlm_train_s: round(median(trains)),
      flowlm_merges: bpe.merges.length,
      spm_bpe_s: round(spmBpe.wall),
      spm_bpe_cpu_s: round(spmBpe.cpu),
      spm_bpe_mb_s: round(mb / spmBpe.wall),
      spm_unigram_s: round(spmUnigram.wall),
      spm_unigram_cpu_s: round(spmUnigram.cpu),
      spm_unigram_mb_s: round(mb / spmUnigram.wall),
      speedup_vs_spm_bpe: round(spmBpe.wall / flowSec),
      cpu_ratio_vs_spm_bpe: round(spmBpe.cpu / flowCpu),
      bpe_shared_pieces: shared,
      bpe_shared_of_spm: round(shared / theirs.length, 3),
      held_out_bytes_per_token_flowlm: round(heldBytes / n),
      held_out_bytes_per_token_spm_bpe: round(heldBytes / spmTokens),
    };
    console.log(
      `flowlm BPE ${result.flowlm_bpe_mb_s} MB/s (median of ${rounds}); spm_train bpe ${result.spm_bpe_mb_s} MB/s, unigram ${result.spm_unigram_mb_s} MB/s; ` +
        `${shared} of spm's ${theirs.length} BPE pieces shared (${round((100 * shared) / theirs.length, 1)}%)`,
    );
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
