// `flowlm run` end to end: the real executable on real text (Moby-Dick chapters, State of the Union
// addresses), checking the --json summary against the files it wrote and against the corpus itself.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mobyDickChapters, sotuTexts } from '../../operators/ingest/embedded-corpus.ts';
import { main } from '../../src/cli/main.ts';
import { parseCount, RUN_OPTIONS } from '../../src/cli/run-command.ts';
import { BIN, flowlm, lastJson, ROOT, spec } from './spawn.ts';
import { callMain } from './in-process.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-cli-run-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const MOBY = dirname(mobyDickChapters());
const SOTU = dirname(sotuTexts());
/** the chapters moby-small.ts reads: 1 and 10-19 */
const chapters = readdirSync(MOBY).filter((f) => /^chapter_1\d?\.txt$/.test(f));
/** blank-line separated paragraphs of those chapters, trimmed: what a paragraph reader must see */
const paragraphs = chapters.flatMap((f) =>
  readFileSync(join(MOBY, f), 'utf8')
    .split(/\n\s*\n/)
    .map((p) => p.trim()),
);

type NodeSummary = {
  op: string;
  rowsIn: number;
  rowsOut: number;
  batchesIn: number;
  batchesOut: number;
  bytesOut: number;
  dropped: number;
  dropReasons: Record<string, number>;
  peakInFlight?: number;
};
type Summary = {
  ok: boolean;
  durationMs: number;
  nodes: Record<string, NodeSummary>;
  sinks: Array<{ node: string; rows: number; files: string[]; cancelled: boolean }>;
};
const readJsonl = (file: string) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('flowlm run', () => {
  it('runs a TypeScript spec: --json summary matches the written file and the corpus, plain progress on stderr', async () => {
    const out = join(tmp, 'moby', 'docs.jsonl');
    const r = await flowlm(['run', spec('moby-small.ts'), '--json', '--set', `write.path=${out}`]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    // stdout holds only the summary: progress never goes there
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const j = lastJson(r.stdout) as unknown as Summary;
    const rows = readJsonl(out);
    const kept = paragraphs.filter((p) => p.length >= 40);
    expect(j.ok).toBe(true);
    expect(j.durationMs).toBeGreaterThanOrEqual(0);
    expect(j.nodes.read!.op).toBe('ingest/read-text');
    expect(j.nodes.read!.rowsOut).toBe(kept.length);
    expect(j.nodes.read!.dropped).toBe(paragraphs.length - kept.length);
    expect(j.nodes.read!.dropReasons['too short']).toBe(paragraphs.length - kept.length);
    expect(j.nodes.normalize!.rowsIn).toBe(kept.length);
    expect(j.nodes.write!.rowsIn).toBe(rows.length);
    expect(rows.length).toBe(kept.length);
    expect(j.nodes.write!.batchesIn).toBe(j.nodes.read!.batchesOut);
    expect(j.nodes.read!.bytesOut).toBeGreaterThan(0);
    expect(j.sinks).toEqual([
      { node: 'write', rows: rows.length, batches: j.nodes.write!.batchesIn, files: [out], cancelled: false },
    ]);
    expect(new Set(rows.map((row) => row.id)).size).toBe(rows.length);
    expect(readdirSync(dirname(out))).toEqual(['docs.jsonl']);
    // stderr is not a terminal here, so `--progress auto` printed plain lines; the last one is final
    const progress = r.stderr
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('flowlm ['));
    expect(progress.length).toBeGreaterThanOrEqual(1);
    const last = progress[progress.length - 1]!;
    expect(last).toMatch(
      /^flowlm \[\d+\.\d+ s\] read: [\d,]+ rows, \d+ batches, [\d.]+ [kMG]?B\/s, in flight \d+\/8, dropped [\d,]+ \| normalize: .* \| write: /,
    );
    expect(Number(/write: ([\d,]+) rows/.exec(last)![1]!.replace(/,/g, ''))).toBe(rows.length);
  });

  it('--set changes configs: a longer minimum, whole files instead of paragraphs, a string value', async () => {
    const long = join(tmp, 'long.jsonl');
    const files = join(tmp, 'files.jsonl');
    const [a, b] = await Promise.all([
      flowlm([
        'run',
        spec('moby-small.ts'),
        '--json',
        '--progress',
        'none',
        '--set',
        'read.minChars=400',
        '--set',
        `write.path=${long}`,
      ]),
      flowlm([
        'run',
        spec('moby-small.ts'),
        '--json',
        '--progress',
        'none',
        '--set',
        'read.unit="file"',
        '--set',
        'read.source=moby',
        '--set',
        `write.path=${files}`,
      ]),
    ]);
    expect(a.code).toBe(0);
    const ja = lastJson(a.stdout) as unknown as Summary;
    expect(ja.nodes.read!.rowsOut).toBe(paragraphs.filter((p) => p.length >= 400).length);
    expect(ja.nodes.read!.dropReasons['too short']).toBe(paragraphs.filter((p) => p.length < 400).length);
    expect(readJsonl(long)).toHaveLength(ja.nodes.read!.rowsOut);

    expect(b.code).toBe(0);
    const rows = readJsonl(files);
    expect(rows).toHaveLength(chapters.length);
    expect(new Set(rows.map((row) => row.source))).toEqual(new Set(['moby']));
  });

  it('runs a JSON spec that names operators by id (nodes and edges form)', async () => {
    const out = join(tmp, 'sotu.jsonl');
    const r = await flowlm(
      ['run', spec('sotu-graph.json'), '--json', '--progress', 'none', '--set', `write.path=${out}`],
      { cwd: ROOT },
    );
    expect(r.code).toBe(0);
    const j = lastJson(r.stdout) as unknown as Summary;
    const addresses = readdirSync(SOTU).filter((f) => /^199\d_.*\.txt$/.test(f));
    expect(j.nodes.read!.rowsOut).toBe(addresses.length);
    expect(j.nodes.clean!.op).toBe('clean/normalize');
    const rows = readJsonl(out);
    expect(rows).toHaveLength(addresses.length);
    expect(Object.keys(rows[0]!)).toEqual(['id', 'text', 'source']);
    // NFKC leaves no compatibility characters (e.g. no-break spaces) behind
    for (const row of rows) expect(row.text).toBe(String(row.text).normalize('NFKC'));
    expect(rows.map((row) => (row.text as string).slice(0, 30))).toContain(
      readFileSync(join(SOTU, addresses[0]!), 'utf8').normalize('NFKC').trim().slice(0, 30),
    );
  });

  it('--max-in-flight bounds the batches a source has in flight', async () => {
    const r = await flowlm([
      'run',
      spec('slow.ts'),
      '--json',
      '--progress',
      'none',
      '--max-in-flight',
      '2',
      '--set',
      'slow.ms=10',
      '--set',
      `read.paths=["${join(MOBY, 'chapter_1?.txt')}"]`,
      '--set',
      `write.path=${join(tmp, 'slow.jsonl')}`,
    ]);
    expect(r.code).toBe(0);
    const j = lastJson(r.stdout) as unknown as Summary;
    expect(j.nodes.write!.rowsIn).toBeGreaterThan(20);
    expect(j.nodes.read!.peakInFlight).toBe(2); // the spec's own budget says 4
  });

  it('prints a human table on stdout without --json', async () => {
    const out = join(tmp, 'table.jsonl');
    const r = await flowlm(['run', spec('moby-small.ts'), '--progress', 'none', '--set', `write.path=${out}`]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const n = readJsonl(out).length;
    expect(r.stdout).toMatch(/^moby-small: done in \d+\.\d+ s\n/);
    expect(r.stdout).toMatch(new RegExp(`\\n  write +io/write-jsonl +${n.toLocaleString('en-US')} +0 `));
    expect(r.stdout).toContain(`wrote ${out}`);
  });
});

describe('flowlm help and usage', () => {
  it('documents every run option, the spec format, exit codes and the operators on disk', async () => {
    let mainHelp = '';
    const [code, run] = await Promise.all([
      main(['--help'], {
        out: (t) => {
          mainHelp += t;
        },
        err: (t) => {
          throw new Error(t);
        },
        stderr: process.stderr,
      }),
      flowlm(['run', '--help']),
    ]);
    expect(code).toBe(0);
    expect(run.code).toBe(0);
    // operators on disk: modules under operators/ that spell out their own path as the id
    const ops = readdirSync(join(ROOT, 'operators'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.ts') && e.name !== 'index.ts')
      .map((e) => join(e.parentPath, e.name))
      .map((file) => ({ file, id: relative(join(ROOT, 'operators'), file).slice(0, -3).split(sep).join('/') }))
      .filter(({ file, id }) => readFileSync(file, 'utf8').includes(`id: '${id}'`))
      .map(({ id }) => id);
    expect(ops).toContain('ingest/read-text');
    for (const text of [mainHelp, run.stdout]) {
      for (const name of Object.keys(RUN_OPTIONS)) expect(text).toContain(`--${name}`);
      for (const word of ['steps', 'edges', 'workers', 'budget', 'Exit codes', '130', '143', 'Examples'])
        expect(text).toContain(word);
    }
    const listed = run.stdout
      .slice(run.stdout.indexOf('\nOperators'))
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/)[0]);
    // every operator defined plainly on disk is listed, and everything listed is a module there
    for (const id of ops) expect(listed).toContain(id);
    for (const id of listed) expect(existsSync(join(ROOT, 'operators', `${id}.ts`)), id).toBe(true);
  });

  it('rejects bad usage with exit 2 and a pointer to the help', async () => {
    // in-process (the same dispatch bin.js calls): these fail before any spec is loaded
    const call = callMain;
    const unknownCmd = await call(['frobnicate']);
    const badFlag = await call(['run', spec('moby-small.ts'), '--colour']);
    const badCount = await call(['run', spec('moby-small.ts'), '--max-in-flight', '0']);
    const badBytes = await call(['run', spec('moby-small.ts'), '--max-in-flight-bytes', '12X']);
    const badMode = await call(['run', spec('moby-small.ts'), '--progress', 'fancy']);
    const noSpec = await call(['run']);
    const none = await call([]);
    for (const r of [unknownCmd, badFlag, badCount, badBytes, badMode, noSpec, none]) {
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
    }
    expect(unknownCmd.stderr).toMatch(
      /^flowlm: unknown command "frobnicate" \(commands: run, prep, ops(, [a-z]+)*\)\nsee: flowlm --help\n$/,
    );
    expect(badFlag.stderr).toMatch(/^flowlm: .*--colour.*\nsee: flowlm run --help\n$/);
    expect(badCount.stderr).toContain('--max-in-flight expects a positive integer, got "0"');
    expect(badBytes.stderr).toContain(
      '--max-in-flight-bytes expects a positive integer (optionally with k, M or G: 64M), got "12X"',
    );
    expect(badMode.stderr).toContain('--progress expects auto, bars, plain, none; got "fancy"');
    expect(noSpec.stderr).toContain('flowlm: missing the spec file');
    expect(none.stderr).toContain('Usage:');
    expect(parseCount('max-in-flight-bytes', '64M', true)).toBe(64 * 1024 * 1024);
  });

  it('works through a node_modules/.bin symlink from another directory', async () => {
    const proj = join(tmp, 'proj');
    const bin = join(proj, 'node_modules', '.bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync(BIN, join(bin, 'flowlm'));
    // a JSON spec names operators by id: they resolve from the real package, not from the symlink's directory
    const r = await flowlm(
      [
        'run',
        spec('sotu-graph.json'),
        '--json',
        '--progress',
        'none',
        '--set',
        `read.paths=["${join(SOTU, '1790_*.txt')}"]`,
      ],
      { command: join(bin, 'flowlm'), cwd: proj },
    );
    expect(r.code).toBe(0);
    expect(readJsonl(join(proj, 'out', 'sotu-graph', 'docs.jsonl'))).toHaveLength(
      readdirSync(SOTU).filter((f) => /^1790_.*\.txt$/.test(f)).length,
    );
  });
});
