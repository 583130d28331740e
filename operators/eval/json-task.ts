// A task as data: a JSON file in operators/eval/tasks (or given by path) states its documents and which
// of four kinds of scoring it takes, and becomes a Task built on the same scorers as the code tasks:
//   multiple_choice  {context, choices, gold}  -> multipleChoiceTask: acc, acc_norm, ece
//   cloze            {context, target}         -> loglikelihood of the target: acc (greedy), perplexity
//   perplexity       {text}                    -> rolling loglikelihood: word/byte perplexity, bits_per_byte
//   generation       {context, reference}      -> greedy generate_until: bleu, chrf, rouge1/2/L/Lsum
// Documents are inline (`docs`) or one JSON object a line in a file (`docsFile`, relative to the task
// file). As lm-eval's targetDelimiter, a choice or cloze target is put after `targetDelimiter` (default
// one space), so data need not carry the leading space. Every field is checked (unknown keys too: a
// misspelt optional field would be silently ignored); errors name the file and the field's path.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { defineTask, type MetricItem, type MetricSpec, type Task } from '../../src/eval/task.ts';
import { chanceLevel, multipleChoiceTask } from './tasks/multiple-choice.ts';
import {
  bitsPerByte,
  bytePerplexity,
  countBytes,
  countWords,
  type PerplexityItem,
  wordPerplexity,
} from './tasks/heldout-perplexity.ts';
import { generatedText, generationMetrics, generationRouge, scoreGeneration } from './tasks/heldout-continuation.ts';

export const JSON_TASK_KINDS = ['multiple_choice', 'cloze', 'perplexity', 'generation'] as const;
export type JsonTaskKind = (typeof JSON_TASK_KINDS)[number];

/** The metrics each kind reports (a `chance` entry must name one of them). */
export const JSON_TASK_METRICS: Record<JsonTaskKind, readonly string[]> = {
  multiple_choice: ['acc', 'acc_norm', 'ece'],
  cloze: ['acc', 'perplexity'],
  perplexity: ['word_perplexity', 'byte_perplexity', 'bits_per_byte'],
  generation: ['bleu', 'chrf', 'rouge1', 'rouge2', 'rougeL', 'rougeLsum'],
};

// a document's name in error messages (default: its index), e.g. where it came from
const DOC_ID = z.string().min(1).optional();
const McDoc = z
  .strictObject({
    id: DOC_ID,
    context: z.string(),
    choices: z.array(z.string().min(1, 'a choice is empty (acc_norm divides by its length)')).min(2),
    gold: z.int().nonnegative(),
  })
  .superRefine((d, ctx) => {
    if (d.gold >= d.choices.length)
      ctx.addIssue({
        code: 'custom',
        path: ['gold'],
        message: `${d.gold} is not an index of the ${d.choices.length} choices`,
      });
  });
const ClozeDoc = z.strictObject({ id: DOC_ID, context: z.string(), target: z.string().min(1) });
const PerplexityDoc = z.strictObject({ id: DOC_ID, text: z.string().min(1) });
const GenerationDoc = z.strictObject({
  id: DOC_ID,
  context: z.string(),
  reference: z.string(),
  until: z.array(z.string()).optional(),
  maxTokens: z.int().positive().optional(),
});
const DOC_SCHEMAS = { multiple_choice: McDoc, cloze: ClozeDoc, perplexity: PerplexityDoc, generation: GenerationDoc };
type McDoc = z.infer<typeof McDoc>;
type ClozeDoc = z.infer<typeof ClozeDoc>;
type PerplexityDoc = z.infer<typeof PerplexityDoc>;
type GenerationDoc = z.infer<typeof GenerationDoc>;

const common = <K extends JsonTaskKind>(kind: K) => ({
  name: z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, "use lower-case letters, digits, '_', '-' and '.'"),
  description: z.string().min(1),
  kind: z.literal(kind),
  docs: z.array(DOC_SCHEMAS[kind]).min(1).optional(),
  docsFile: z.string().min(1).optional(),
  chance: z.partialRecord(z.enum(JSON_TASK_METRICS[kind] as [string, ...string[]]), z.number().min(0)).optional(),
});
const HEADERS = {
  multiple_choice: z.strictObject({ ...common('multiple_choice'), targetDelimiter: z.string().optional() }),
  cloze: z.strictObject({ ...common('cloze'), targetDelimiter: z.string().optional() }),
  perplexity: z.strictObject(common('perplexity')),
  generation: z.strictObject({
    ...common('generation'),
    until: z.array(z.string()).optional(),
    maxTokens: z.int().positive().optional(),
    useStemmer: z.boolean().optional(),
  }),
};

/** `docs[3].gold` from zod's path. */
const fieldPath = (path: readonly PropertyKey[]): string =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${String(p)}`)).join('') || '(top level)';

function parsed<T>(schema: z.ZodType<T>, data: unknown, where: string): T {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const what = r.error.issues.map((i) => `${fieldPath(i.path)}: ${i.message}`).join('; ');
  throw new Error(`${where}: ${what}`);
}

/** The documents of `docsFile`: one JSON object a line (blank lines skipped), each checked. */
function readDocsFile(taskFile: string, docsFile: string, kind: JsonTaskKind): unknown[] {
  const path = resolve(dirname(resolve(taskFile)), docsFile);
  if (!existsSync(path))
    throw new Error(`task file ${taskFile}: docsFile: ${path} does not exist (the path is relative to the task file)`);
  const docs: unknown[] = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      const where = `task file ${taskFile}: docsFile ${docsFile} line ${i + 1}`;
      let data: unknown;
      try {
        data = JSON.parse(line);
      } catch (e) {
        throw new Error(`${where}: not valid JSON (${(e as Error).message})`);
      }
      docs.push(parsed(DOC_SCHEMAS[kind] as z.ZodType<unknown>, data, where));
    });
  if (docs.length === 0) throw new Error(`task file ${taskFile}: docsFile ${docsFile} has no documents`);
  return docs;
}

const prefix =
  <D>(docs: readonly D[]) =>
  (limit?: number) =>
    limit === undefined ? docs : docs.slice(0, limit);

/** exp(-mean log-likelihood of the targets), lm-eval's lambada perplexity. */
export const clozePerplexity = (items: readonly MetricItem[]): number =>
  Math.exp(-items.reduce((a: number, x) => a + Number(x), 0) / items.length);

function loglik(where: string, results: readonly { kind: string }[]) {
  const r = results[0];
  if (results.length !== 1 || r?.kind !== 'loglikelihood')
    throw new Error(`${where}: expected one loglikelihood result, got ${results.length}`);
  return r as { kind: 'loglikelihood'; loglik: number; greedy: boolean };
}

/** A Task from a task's data; `file` is where it came from (for errors and `docsFile`). */
export function jsonTask(data: unknown, file: string): Task {
  const head = parsed(
    z.looseObject({
      kind: z.enum(JSON_TASK_KINDS, {
        error: (i) => `${JSON.stringify(i.input)} is not a task kind; use one of ${JSON_TASK_KINDS.join(', ')}`,
      }),
    }),
    data,
    `task file ${file}`,
  );
  const spec = parsed(
    HEADERS[head.kind] as z.ZodType<z.infer<(typeof HEADERS)[JsonTaskKind]>>,
    data,
    `task file ${file}`,
  );
  if ((spec.docs === undefined) === (spec.docsFile === undefined))
    throw new Error(`task file ${file}: docs, docsFile: give exactly one (inline documents, or a .jsonl file of them)`);
  const docs = spec.docs ?? readDocsFile(file, spec.docsFile as string, head.kind);
  // the documents' hash goes into the config: other documents, other numbers
  const docsHash = createHash('sha256').update(JSON.stringify(docs)).digest('hex').slice(0, 16);
  const where = (d: { id?: string }) => `task ${spec.name} (${file}) doc ${d.id ?? docs.indexOf(d)}`;
  let task: Task;
  if (spec.kind === 'multiple_choice' || spec.kind === 'cloze') {
    const delim = spec.targetDelimiter ?? ' ';
    const config = { kind: spec.kind, docs: docsHash, targetDelimiter: delim };
    if (spec.kind === 'multiple_choice') {
      const mc = docs as McDoc[];
      const counts = mc.map((d) => d.choices.length);
      const same = counts.every((k) => k === counts[0]);
      task = multipleChoiceTask<McDoc>({
        name: spec.name,
        description: spec.description,
        docs: prefix(mc),
        context: (d) => d.context,
        choices: (d) => d.choices.map((c) => delim + c),
        gold: (d) => d.gold,
        texts: (d) => [`${d.context}${delim}${d.choices[d.gold]}`],
        config,
        ...(spec.chance?.acc !== undefined
          ? { chance: spec.chance.acc }
          : same
            ? { numChoices: counts[0] }
            : { chance: chanceLevel(counts) }),
      }) as Task;
    } else {
      const cz = docs as ClozeDoc[];
      task = defineTask<ClozeDoc>({
        name: spec.name,
        description: spec.description,
        metrics: {
          acc: { aggregate: 'mean', higherIsBetter: true },
          perplexity: { aggregate: clozePerplexity, higherIsBetter: false, stderr: 'bootstrap' },
        },
        docs: prefix(cz),
        requests: (d) => [{ kind: 'loglikelihood', context: d.context, continuation: delim + d.target }],
        process: (d, results) => {
          const r = loglik(where(d), results);
          return { acc: r.greedy ? 1 : 0, perplexity: r.loglik };
        },
        texts: (d) => [`${d.context}${delim}${d.target}`],
        config,
      }) as Task;
    }
  } else if (spec.kind === 'perplexity') {
    const px = docs as PerplexityDoc[];
    task = defineTask<PerplexityDoc>({
      name: spec.name,
      description: spec.description,
      metrics: {
        word_perplexity: { aggregate: wordPerplexity, higherIsBetter: false, stderr: 'bootstrap' },
        byte_perplexity: { aggregate: bytePerplexity, higherIsBetter: false, stderr: 'bootstrap' },
        bits_per_byte: { aggregate: bitsPerByte, higherIsBetter: false, stderr: 'bootstrap' },
      },
      docs: prefix(px),
      requests: (d) => [{ kind: 'loglikelihood_rolling', text: d.text }],
      process: (d, results) => {
        const r = results[0];
        if (results.length !== 1 || r?.kind !== 'loglikelihood_rolling')
          throw new Error(`${where(d)}: expected one loglikelihood_rolling result, got ${results.length}`);
        const item: PerplexityItem = { loglik: r.loglik, words: countWords(d.text), bytes: countBytes(d.text) };
        return { word_perplexity: item, byte_perplexity: item, bits_per_byte: item };
      },
      texts: (d) => [d.text],
      config: { kind: spec.kind, docs: docsHash },
    }) as Task;
  } else {
    const gen = docs as GenerationDoc[];
    const until = spec.until ?? ['\n\n'];
    const maxTokens = spec.maxTokens ?? 32;
    const useStemmer = spec.useStemmer ?? false;
    const rouge = generationRouge(useStemmer);
    task = defineTask<GenerationDoc>({
      name: spec.name,
      description: spec.description,
      metrics: generationMetrics(),
      docs: prefix(gen),
      requests: (d) => [
        { kind: 'generate_until', context: d.context, until: d.until ?? until, maxTokens: d.maxTokens ?? maxTokens },
      ],
      process: (d, results) => scoreGeneration(rouge, generatedText(where(d), results), d.reference),
      texts: (d) => [d.context, d.reference].filter((t) => t.length > 0),
      config: { kind: spec.kind, docs: docsHash, until, maxTokens, useStemmer },
    }) as Task;
  }
  return withChance(task, spec.chance ?? {});
}

/** The task with the chance levels the data states (they override the builders'). */
function withChance(task: Task, chance: Partial<Record<string, number>>): Task {
  const metrics: Record<string, MetricSpec & { chance?: number }> = { ...task.metrics };
  for (const [m, c] of Object.entries(chance)) if (c !== undefined) metrics[m] = { ...metrics[m]!, chance: c };
  return { ...task, metrics };
}
