// `flowlm prep` on the command line: bad usage and impossible inputs exit 2 with a message saying what
// to do (in-process, before anything runs), the help describes every flag, the input kind follows the
// file name (JSON Lines here, through the real executable), and a pipeline file takes --set.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mobyDickChapters } from '../../operators/ingest/embedded-corpus.ts';
import { callMain as call } from './in-process.ts';
import { BUILD_OPTIONS } from '../../src/cli/prep-command.ts';
import { flowlm, lastJson, spec } from './spawn.ts';
import { RunStore } from '../../src/runs/store.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-cli-prep-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('flowlm prep usage', () => {
  it('rejects bad flags and impossible inputs with exit 2, before anything runs', async () => {
    const out = join(tmp, 'never');
    const cases: Array<[string[], RegExp]> = [
      [
        ['prep', '--format', 'csv', '--out', out],
        /--format expects ipc or parquet, got "csv"\nsee: flowlm prep --help/,
      ],
      [
        ['prep', '--workers', 'many', '--out', out],
        /--workers expects a number of threads \(0 or more, this machine has \d+ cores\), got "many"/,
      ],
      [['prep', '--seq-len', '0', '--out', out], /--seq-len expects a positive integer, got "0"/],
      [
        ['prep', '--near-dup', '1.5', '--out', out],
        /--near-dup expects a Jaccard similarity between 0 and 1 \(say 0.8\), got "1.5"/,
      ],
      [['prep', '--near-dup', '0', '--out', out], /--near-dup expects a Jaccard similarity/],
      [
        ['prep', '--shard-bytes', '1X', '--out', out],
        /--shard-bytes expects a positive integer \(optionally with k, M or G/,
      ],
      [
        ['prep', '--input', 'a.jsonl', '--input', 'b.txt', '--out', out],
        /input: inputs of different kinds \(jsonl, text\): give inputs of one kind per run/,
      ],
      [
        ['prep', '--input', 'https://a.example/', '--input', 'https://b.example/', '--out', out],
        /input: give one URL to crawl from \(got 2\)/,
      ],
      [
        ['prep', '--input', join(tmp, 'missing-*.txt'), '--set', 'ghost.x=1', '--out', out],
        /--set ghost.x=1: unknown node "ghost" \(nodes: read, dedup, tokenize, pack, write\)/,
      ],
      [['prep', '--encoding', 'cl50k', '--out', out], /steps\[2\]\.config\.encoding: .*"cl100k"/],
      [
        ['prep', spec('moby-small.ts'), '--seq-len', '64'],
        /exports no prepSpec\(options\) function; build flags \(--input, --out, \.\.\.\) need a file exporting prepSpec/,
      ],
      [['prep', 'a.ts', 'b.ts'], /expected at most one pipeline file, got a\.ts b\.ts/],
    ];
    for (const [argv, message] of cases) {
      const r = await call(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr, argv.join(' ')).toMatch(message);
      expect(r.stdout).toBe('');
    }
    expect(() => readdirSync(out)).toThrow(); // nothing was written
  });

  it('--help (and flowlm help prep) describes every flag, the input kinds and the summary', async () => {
    const a = await call(['prep', '--help']);
    const b = await call(['help', 'prep']);
    expect(a.code).toBe(0);
    expect(b.stdout).toBe(a.stdout);
    for (const flag of Object.keys(BUILD_OPTIONS)) expect(a.stdout).toContain(`--${flag}`);
    for (const word of [
      '.jsonl',
      '.parquet',
      '.warc',
      'http(s)://',
      'State of the Union',
      '"peakRssMb"',
      '"tokensPerS"',
      '--max-in-flight',
    ])
      expect(a.stdout).toContain(word);
    expect((await call(['--help'])).stdout).toMatch(/\n {2}prep {3}data preparation alone/);
  });
});

describe('flowlm prep inputs', () => {
  it('reads a JSON Lines input as documents (field "text") and a plain pipeline file with --set', async () => {
    const chapters = readdirSync(dirname(mobyDickChapters()))
      .filter((f) => /^chapter_\d\.txt$/.test(f))
      .sort();
    const texts = chapters.map((f) => readFileSync(join(dirname(mobyDickChapters()), f), 'utf8').trim());
    const jsonl = join(tmp, 'moby.jsonl');
    writeFileSync(jsonl, texts.map((text, i) => JSON.stringify({ id: `ch${i + 1}`, text })).join('\n') + '\n');
    const out = join(tmp, 'jsonl');
    const r = await flowlm([
      'prep',
      '--input',
      jsonl,
      '--out',
      out,
      '--seq-len',
      '64',
      '--workers',
      '1',
      '--json',
      '--progress',
      'none',
      '--store',
      join(tmp, 'runs.sqlite'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout) as {
      documents: number;
      tokens: number;
      rows: number;
      nodes: Record<string, { op: string; rowsOut: number }>;
    };
    expect(j.nodes.read!.op).toBe('ingest/read-jsonl');
    expect(j.nodes.read!.rowsOut).toBe(texts.length);
    // the recorded run: each node's figures as metrics, the nodes' configs, the completed files
    const db = RunStore.open(join(tmp, 'runs.sqlite'));
    try {
      const [run] = db.runs({ command: 'prep' });
      expect(run!.status).toBe('finished');
      expect(db.metrics(run!.id, 'pipeline/read/rows_out')[0]!.value).toBe(texts.length);
      expect((run!.config as { nodes: Record<string, { op: string }> }).nodes.read!.op).toBe('ingest/read-jsonl');
      expect(run!.configHash).toMatch(/^[0-9a-f]{16}$/);
      expect(db.artifacts(run!.id).map((a) => a.path)).toContain(join(out, 'manifest.json'));
    } finally {
      db.close();
    }
    expect(j.documents).toBe(texts.length);
    expect(j.rows).toBe(Math.floor((j.tokens - 1) / 64));

    // the default pipeline as a file: flags go to its prepSpec, --set to its nodes
    const again = join(tmp, 'file');
    const f = await flowlm([
      'prep',
      'pipelines/prep-default.ts',
      '--input',
      jsonl,
      '--out',
      again,
      '--seq-len',
      '64',
      '--workers',
      '1',
      '--set',
      'write.prefix=moby',
      '--json',
      '--progress',
      'none',
    ]);
    expect(f.code, f.stderr).toBe(0);
    expect(readdirSync(again).filter((n) => n.endsWith('.arrow'))).toEqual(['moby-00000.arrow']);
    expect((lastJson(f.stdout) as { tokens: number }).tokens).toBe(j.tokens);
  });
});
