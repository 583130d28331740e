// `flowlm prep` end to end, the real executable: on a slice of the corpus its shards hold exactly the
// token stream js-tiktoken gives for the normalised, deduplicated documents (packed rows of seqLen+1,
// consecutive rows sharing a token, the tail that fills no row dropped), and so does its --json summary;
// the Parquet variant opens in hyparquet with one row of ids per document; with no input it prepares
// the whole embedded corpus with cl100k and rows of 1025 tokens.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Manifest } from '../../operators/shard/manifest.ts';
import { mobyDickChapters, sotuTexts } from '../../operators/ingest/embedded-corpus.ts';
import { flowlm, lastJson } from '../cli/spawn.ts';
import { packedRows, referenceTokens, SUBSET_INPUTS, subsetDocuments } from './prep-subset.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-prep-e2e-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// a copy of chapter 3 under another name: the same text again, which dedup must drop
const dupDir = join(tmp, 'dup');
mkdirSync(dupDir);
copyFileSync(join(dirname(mobyDickChapters()), 'chapter_3.txt'), join(dupDir, 'chapter_3_copy.txt'));
const INPUTS = [...SUBSET_INPUTS, join(dupDir, '*.txt')];
const SEQ = 256;

let reference: number[][] = [];
beforeAll(async () => {
  reference = referenceTokens(await subsetDocuments(INPUTS));
});

const manifestOf = (dir: string) => Manifest.parse(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
type Summary = {
  ok: boolean;
  documents: number;
  tokens: number;
  shards: number;
  rows: number;
  tokensStored: number;
  mb: number;
  mbPerS: number;
  tokensPerS: number;
  peakRssMb: number;
  manifest: string;
  nodes: Record<
    string,
    { op: string; rowsIn: number; rowsOut: number; dropped: number; dropReasons: Record<string, number> }
  >;
};
const inputArgs = INPUTS.flatMap((i) => ['--input', i]);

describe('flowlm prep', () => {
  it('writes packed IPC shards holding exactly the js-tiktoken stream of the normalised, deduplicated text', async () => {
    const out = join(tmp, 'ipc');
    const r = await flowlm([
      'prep',
      ...inputArgs,
      '--out',
      out,
      '--seq-len',
      String(SEQ),
      '--shard-bytes',
      '128k',
      '--workers',
      '2',
      '--json',
      '--progress',
      'none',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout) as unknown as Summary;
    const stream = reference.flat();
    const rows = packedRows(stream.length, SEQ);

    expect(j.ok).toBe(true);
    expect(j.documents).toBe(reference.length);
    expect(j.tokens).toBe(stream.length);
    expect(j.nodes.dedup!.dropReasons).toEqual({ exact_duplicate: 1 });
    expect(j.nodes.read!.rowsOut).toBe(reference.length + 1);
    expect(j.nodes.tokenize!.op).toBe('tokenize/tokenize');
    expect(j.rows).toBe(rows);
    expect(j.tokensStored).toBe(rows * (SEQ + 1));
    expect(j.mb).toBeGreaterThan(0.4);
    expect(j.mbPerS).toBeGreaterThan(0);
    expect(j.tokensPerS).toBeGreaterThan(0);
    expect(j.peakRssMb).toBeGreaterThan(20);
    expect(j.manifest).toBe(join(out, 'manifest.json'));

    const m = manifestOf(out);
    expect(m).toMatchObject({ kind: 'ipc', encoding: 'cl100k', seqLen: SEQ, rows, tokens: rows * (SEQ + 1) });
    expect(m.meta).toMatchObject({
      pipeline: 'prep-default',
      tokenizer: { form: 'NFC', controls: true, whitespace: true },
    });
    expect(j.shards).toBe(m.shards.length);
    expect(m.shards.length).toBeGreaterThan(2);
    // every row: stream positions [i*SEQ, i*SEQ+SEQ]
    let i = 0;
    for (const s of m.shards) {
      const ids = tableFromIPC(readFileSync(join(out, s.file))).getChild('input_ids')!;
      for (const row of ids) {
        const got = Array.from((row as { toArray(): Int32Array }).toArray());
        expect(got, `row ${i}`).toEqual(stream.slice(i * SEQ, i * SEQ + SEQ + 1));
        i++;
      }
    }
    expect(i).toBe(rows);
    expect(readdirSync(out).filter((f) => f.startsWith('.flowlm-tmp-'))).toEqual([]);
  });

  it('--format parquet writes one row of token ids per document that hyparquet reads', async () => {
    const out = join(tmp, 'parquet');
    const r = await flowlm([
      'prep',
      ...inputArgs,
      '--out',
      out,
      '--format',
      'parquet',
      '--workers',
      '1',
      '--json',
      '--progress',
      'none',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout) as unknown as Summary;
    const m = manifestOf(out);
    expect(m).toMatchObject({
      kind: 'parquet',
      encoding: 'cl100k',
      seqLen: null,
      tokenColumn: 'tokens',
      rows: reference.length,
      tokens: reference.flat().length,
    });
    expect(j).toMatchObject({ documents: reference.length, tokens: reference.flat().length, rows: reference.length });
    const read: number[][] = [];
    for (const s of m.shards) {
      const rows = await parquetReadObjects({ file: new Uint8Array(readFileSync(join(out, s.file))).buffer });
      expect(rows.length).toBe(s.rows);
      for (const row of rows) {
        const rec = row as { id: unknown; source: unknown; tokens: unknown[] };
        expect(typeof rec.id).toBe('string');
        expect(rec.source).toBe('text');
        read.push(rec.tokens.map(Number));
      }
    }
    expect(read).toEqual(reference);
  });

  it('with no input prepares the embedded corpus: every document, cl100k, rows of 1025 tokens', async () => {
    const out = join(tmp, 'default');
    const r = await flowlm(['prep', '--out', out, '--json', '--progress', 'none']);
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout) as unknown as Summary;
    const sotu = readdirSync(dirname(sotuTexts())).filter((f) => f.endsWith('.txt')).length;
    const chapters = readdirSync(dirname(mobyDickChapters())).filter((f) => /^chapter_\d+\.txt$/.test(f)).length;
    expect(j.nodes.read!.rowsOut).toBe(sotu + chapters);
    expect(j.documents).toBe(sotu + chapters - j.nodes.dedup!.dropped);
    const m = manifestOf(out);
    expect(m).toMatchObject({ encoding: 'cl100k', seqLen: 1024 });
    expect(m.rows).toBe(packedRows(j.tokens, 1024));
    expect(m.tokens).toBe(m.rows * 1025);
    expect(j.mb).toBeGreaterThan(10);
  });
});
