// Configs and specs refuse keys they do not know (zod objects would strip them and the run would go on
// with the defaults): at every depth, through zod's wrappers, with the nearest known key suggested.
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { SpecError } from '../../src/core/errors.ts';
import { editDistance, nearestKey, safeParseKnown, unknownKeyIssues } from '../../src/core/unknown-keys.ts';
import { defOf } from '../../src/core/operator.ts';
import { Registry } from '../../src/graph/registry.ts';
import { validatePipeline } from '../../src/graph/validate.ts';
import { normalize } from '../../operators/clean/normalize.ts';
import { writeShards } from '../../operators/shard/write-shards.ts';

const at = (schema: z.ZodType, value: unknown) =>
  unknownKeyIssues(schema, value).map((i) => `${i.path.join('.')}: ${i.message}`);

describe('unknownKeyIssues', () => {
  it('finds a typo at any depth, through optional, nullable, default, arrays and transforms', () => {
    const inner = z.object({ maxPages: z.number(), tags: z.array(z.object({ name: z.string() })).default([]) });
    const schema = z.object({
      crawl: inner.optional(),
      nested: z.object({ deeper: inner.nullable() }).default({ deeper: null }),
      piped: z.object({ form: z.string() }).transform((o) => o.form),
      pre: z.preprocess((v) => v, z.object({ level: z.number() })),
    });
    expect(
      at(schema, {
        crawl: { maxpages: 5, tags: [{ name: 'a' }, { nmae: 'b' }] },
        nested: { deeper: { maxPages: 1, tagz: [] } },
        piped: { forms: 'NFC' },
        pre: { levle: 2 },
        extra: true,
      }),
    ).toEqual([
      'crawl.maxpages: unknown key; did you mean maxPages?',
      'crawl.tags.1.nmae: unknown key; did you mean name?',
      'nested.deeper.tagz: unknown key; did you mean tags?',
      'piped.forms: unknown key; did you mean form?',
      'pre.levle: unknown key; did you mean level?',
      'extra: unknown key; known keys: crawl, nested, piped, pre',
    ]);
  });

  it('accepts any key where the schema leaves keys open: records, catchalls, unknown', () => {
    const schema = z.object({
      meta: z.record(z.string(), z.unknown()),
      loose: z.looseObject({ a: z.number() }),
      anything: z.unknown(),
      byName: z.record(z.string(), z.object({ weight: z.number() })),
    });
    expect(
      at(schema, {
        meta: { whatever: { deep: 1 } },
        loose: { b: 1 },
        anything: { c: 1 },
        byName: { x: { weight: 1 } },
      }),
    ).toEqual([]);
    // a record's values are still checked
    expect(at(schema, { byName: { x: { wieght: 1 } } })).toEqual([
      'byName.x.wieght: unknown key; did you mean weight?',
    ]);
  });

  it('in a union, a key known to any member is accepted; a discriminated union checks the selected member', () => {
    const union = z.union([z.object({ a: z.number() }), z.object({ b: z.number() }), z.string()]);
    expect(at(union, { a: 1, b: 2 })).toEqual([]);
    expect(at(union, 'text')).toEqual([]);
    expect(at(union, { c: 1 })).toEqual(['c: unknown key; known keys: a, b']);
    const disc = z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('cosine'), warmup: z.number() }),
      z.object({ kind: z.literal('linear'), slope: z.number() }),
    ]);
    expect(
      at(z.array(disc), [
        { kind: 'cosine', warmup: 1 },
        { kind: 'linear', warmup: 1 },
      ]),
    ).toEqual(['1.warmup: unknown key; known keys: kind, slope']);
  });

  it('suggests only a close key (case ignored, a swap is one edit); short keys only by case', () => {
    expect(nearestKey('maxpages', ['maxPages', 'maxDepth'])).toBe('maxPages');
    expect(nearestKey('budgt', ['budget', 'name'])).toBe('budget');
    expect(nearestKey('fomr', ['form'])).toBe('form');
    expect(nearestKey('threads', ['workers', 'budget'])).toBeUndefined();
    expect(nearestKey('y', ['x'])).toBeUndefined();
    expect(editDistance('abcd', 'acbd')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('safeParseKnown fails with zod issues and ours together; a strict object reports each key once', () => {
    const r = safeParseKnown(z.object({ n: z.number().max(3), form: z.string() }), { n: 5, forms: 'x' });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'n: Too big: expected number to be <=3',
      'form: Invalid input: expected string, received undefined',
      'forms: unknown key; did you mean form?',
    ]);
    const strict = safeParseKnown(z.strictObject({ limit: z.number() }), { limit: 1, limt: 2 });
    expect(strict.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'limt: unknown key; did you mean limit?',
    ]);
  });
});

describe('operators refuse keys they do not know', () => {
  it('a factory used in plain RxJS throws naming the key and the nearest one', () => {
    expect(() => normalize({ forms: 'NFC' } as never)).toThrow(/config\.forms: unknown key; did you mean form\?/);
  });

  it('every registered operator refuses an unknown top-level key', async () => {
    const registry = new Registry();
    const ids = await registry.ids();
    expect(ids.length).toBeGreaterThan(20);
    for (const id of ids) {
      const def = defOf((await registry.get(id))!);
      expect(
        unknownKeyIssues(def.config, { notAConfigKey: 1 }).map((i) => i.path),
        id,
      ).toEqual([['notAConfigKey']]);
    }
  });

  it('a config field that is a free-form map still takes any key', () => {
    const r = safeParseKnown(writeShards.def.config, { dir: 'out/x', meta: { anyName: 1, nested: { also: true } } });
    expect(r.success).toBe(true);
  });
});

describe('pipeline specs refuse keys they do not know', () => {
  it("a typo at the top or in a step fails the spec's shape; one in a node config is reported with the node's path", async () => {
    const spec = {
      budgt: { maxInFlight: 2 },
      steps: [
        { id: 'read', op: 'ingest/read-text', config: { paths: ['x.txt'], minchars: 10 } },
        { id: 'norm', op: 'clean/normalize', worker: 2 },
      ],
    };
    const err = await validatePipeline(spec).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SpecError);
    expect((err as SpecError).issues).toEqual([
      { path: 'budgt', message: 'unknown key; did you mean budget?' },
      { path: 'steps.1.worker', message: 'unknown key; did you mean workers?' },
    ]);
    // the spec's own keys fixed, the node config's typo is reported next
    const fixed = { steps: [spec.steps[0], { id: 'norm', op: 'clean/normalize', workers: 2 }] };
    const next = await validatePipeline(fixed).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((next as SpecError).issues).toEqual([
      { path: 'steps[0].config.minchars', message: 'unknown key; did you mean minChars?' },
    ]);
  });
});
