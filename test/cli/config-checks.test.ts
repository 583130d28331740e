// What a new user types and what `flowlm run` answers before anything runs: a mistyped config key and
// values that can be checked up front are invalid specs (exit 2, the path and the reason), not a run
// that goes on with the default or fails half-way with exit 1.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { flowlm, NO_STACK } from './spawn.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-cli-config-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// where the pipeline would write if the run started (never, when validation refuses it)
const out = `write.path=${join(tmp, 'docs.parquet')}`;
const issueLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('  - '));

describe('flowlm run refuses what it does not understand (exit 2)', () => {
  it('a mistyped config key: the key and the nearest known one', async () => {
    const r = await flowlm(['run', 'pipelines/crawl-clean.ts', '--set', 'crawl.maxpages=5', '--set', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(NO_STACK);
    expect(issueLines(r.stderr)).toEqual(['  - steps[0].config.maxpages: unknown key; did you mean maxPages?']);
  });

  it('allowAddresses that is not an IP address', async () => {
    const r = await flowlm([
      'run',
      'pipelines/crawl-clean.ts',
      '--set',
      'crawl.allowAddresses=["not-an-ip"]',
      '--set',
      out,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(NO_STACK);
    expect(issueLines(r.stderr)).toEqual([
      '  - steps[0].config.allowAddresses.0: "not-an-ip" is not an IPv4 or IPv6 address (expected e.g. "127.0.0.1", "::1" or a CIDR range "10.0.0.0/8")',
    ]);
  });

  it('allowAddresses with a prefix length out of range, IPv4 and IPv6', async () => {
    const r = await flowlm([
      'run',
      'pipelines/crawl-clean.ts',
      '--set',
      'crawl.allowAddresses=["127.0.0.1/99","::1/128","fd00::/129"]',
      '--set',
      out,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(NO_STACK);
    expect(issueLines(r.stderr)).toEqual([
      '  - steps[0].config.allowAddresses.0: prefix length "99" of "127.0.0.1/99" is not a whole number from 0 to 32 (IPv4)',
      '  - steps[0].config.allowAddresses.2: prefix length "129" of "fd00::/129" is not a whole number from 0 to 128 (IPv6)',
    ]);
  });

  it('a JSON spec with a mistyped top-level key and a node field', async () => {
    const file = join(tmp, 'typos.json');
    writeFileSync(
      file,
      JSON.stringify({
        budgt: { maxInFlight: 4 },
        steps: [
          { id: 'read', op: 'ingest/read-text', config: { paths: ['*.txt'] } },
          { id: 'norm', op: 'clean/normalize', worker: 2 },
          { id: 'write', op: 'io/write-jsonl', config: { path: join(tmp, 'out.jsonl') } },
        ],
      }),
    );
    const r = await flowlm(['run', file]);
    expect(r.code).toBe(2);
    expect(issueLines(r.stderr)).toEqual([
      '  - budgt: unknown key; did you mean budget?',
      '  - steps.1.worker: unknown key; did you mean workers?',
    ]);
  });
});
