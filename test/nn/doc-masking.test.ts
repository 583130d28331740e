// Document masking end to end: with model.docMasking, a packed row of several documents (sentences
// of Moby-Dick as bytes, EOS after each) has exactly the loss and gradients of its documents run one
// by one, weighted by their targets: attention stays within a document and positions restart at its
// start (learned and sinusoidal, both kernel paths). The doc_starts pack/pack-sequences records reach
// the model through packedOf, and through shards (write-shards -> shardTrainData) with the padding mask.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packSequences } from '../../operators/pack/pack-sequences.ts';
import { writeShards } from '../../operators/shard/write-shards.ts';
import { shardTrainData } from '../../operators/train/shard-data.ts';
import { initBackend } from '../../src/nn/backend/backend.ts';
import type { GptConfigInput } from '../../src/nn/model/config.ts';
import { Gpt } from '../../src/nn/model/gpt.ts';
import type { PackedBatch } from '../../src/nn/objective/loss.ts';
import { packedOf } from '../../src/nn/train/step-batches.ts';
import { trainConfig } from '../../src/nn/train/train-config.ts';
import { computeGrads, type Grads } from '../../src/nn/train/train-step.ts';
import type { Packed } from '../../src/schema/columns.ts';
import type { RecordBatch } from 'apache-arrow';
import { cells, runOp, tokensBatches } from '../operators/pack/fixtures.ts';
import { relErr } from './golden-params.ts';
import { BYTE_EOS, BYTE_VOCAB, documentsOf, packDocs, sentenceDocs } from './prose-docs.ts';

beforeAll(async () => {
  await initBackend({ announce: false });
});

// initStd 0.2: position embeddings large enough that a document seen at the wrong positions shows
const base: GptConfigInput = {
  vocabSize: BYTE_VOCAB,
  contextLength: 64,
  nLayer: 2,
  nHead: 2,
  dModel: 16,
  initStd: 0.2,
  docMasking: true,
};
const grads = (model: Gpt, b: PackedBatch): Grads => computeGrads(model, b, { objective: { kind: 'autoregressive' } });

/** The target-weighted mean of the documents' separate losses and gradients. */
function separately(model: Gpt, b: PackedBatch): Grads {
  const parts = documentsOf(b);
  const total = parts.reduce((n, p) => n + p.seqLen, 0);
  expect(total).toBe(b.batch * b.seqLen); // every target of the row is some document's
  let loss = 0;
  const sum = new Map<string, Float32Array>();
  for (const p of parts) {
    const g = grads(model, p);
    const f = p.seqLen / total;
    loss += f * g.loss;
    for (const [name, v] of g.grads) {
      const acc = sum.get(name) ?? sum.set(name, new Float32Array(v.length)).get(name)!;
      for (let i = 0; i < v.length; i++) acc[i]! += f * v[i]!;
    }
  }
  return { loss, grads: sum };
}

function expectSame(packed: Grads, alone: Grads, label: string): void {
  const lossErr = Math.abs(packed.loss - alone.loss) / alone.loss;
  let worst = { name: '', err: 0 };
  for (const [name, g] of alone.grads) {
    const err = relErr(packed.grads.get(name)!, g);
    if (err > worst.err) worst = { name, err };
  }
  console.log(
    `${label}: loss ${packed.loss.toFixed(6)} vs ${alone.loss.toFixed(6)} (rel ${lossErr.toExponential(2)}), worst gradient ${worst.name} ${worst.err.toExponential(2)}`,
  );
  expect(lossErr).toBeLessThan(1e-5);
  expect(worst.err, worst.name).toBeLessThan(1e-4);
}

describe('document masking', () => {
  // two rows of 40 inputs, 3 or more documents each
  const docs = sentenceDocs(16, 12);
  const batch = packDocs(docs, 2, 40);

  it.each([
    ['learned positions, js kernels', 'learned', 'js'],
    ['learned positions, tf kernels', 'learned', 'tf'],
    ['sinusoidal positions, js kernels', 'sinusoidal', 'js'],
    ['sinusoidal positions, tf kernels, post-LN', 'sinusoidal', 'tf'],
  ] as const)(
    'a packed row has the loss and gradients of its documents run one by one (%s)',
    (label, positions, kernels) => {
      const model = Gpt.create(
        { ...base, positions, ...(label.includes('post-LN') ? { norm: 'post' } : {}) },
        { seed: 7 },
      );
      model.kernels = kernels;
      expect(Array.from(batch.docStarts!).every((s) => s.length >= 3)).toBe(true);
      expect(batch.docStarts![1]![0]).toBeGreaterThan(0); // row 2 begins inside a document
      expectSame(grads(model, batch), separately(model, batch), `doc masking, ${label}`);
      model.dispose();
    },
  );

  it('without docMasking the same rows mix documents: the test above can tell', () => {
    const model = Gpt.create({ ...base, docMasking: false }, { seed: 7 });
    const packed = grads(model, batch).loss;
    const alone = separately(model, batch).loss;
    expect(Math.abs(packed - alone) / alone).toBeGreaterThan(1e-3);
    model.dispose();
  });

  it('pack-sequences doc_starts reach the model through packedOf', async () => {
    const tokenDocs = sentenceDocs(40, 20, 16).map((ids, i) => ({ id: `s${i}`, ids }));
    const out = (await runOp(
      tokensBatches(tokenDocs, [7, 3]),
      packSequences({ seqLen: 48, rowsPerBatch: 4, appendEos: true, eosId: BYTE_EOS, docStarts: true }),
    )) as RecordBatch<Packed>[];
    expect(out.length).toBeGreaterThan(1);
    const model = Gpt.create(base, { seed: 3 });
    for (const arrow of out.slice(0, 2)) {
      const b = packedOf(arrow);
      expect(Array.from(b.docStarts ?? [], (s) => Array.from(s))).toEqual(cells(arrow, 'doc_starts'));
      expectSame(grads(model, b), separately(model, b), 'pack-sequences -> packedOf');
    }
    // cropped to fewer input tokens: the starts past the crop are gone, the rest kept
    const cropped = packedOf(out[0]!, 20);
    expect(Array.from(cropped.docStarts ?? [], (s) => Array.from(s))).toEqual(
      cells(out[0]!, 'doc_starts').map((s) => s.filter((x) => x <= 20)),
    );
    model.dispose();
  });
});

describe('doc_starts and attention_mask through shards', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'flowlm-doc-masking-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('shardTrainData gives each row the doc_starts and attention_mask it was written with', async () => {
    const tokenDocs = sentenceDocs(30, 20, 60).map((ids, i) => ({ id: `s${i}`, ids }));
    // dropLast false: the last row is padded, so the shards hold an attention_mask column too
    const packed = (await runOp(
      tokensBatches(tokenDocs, [5]),
      packSequences({
        seqLen: 32,
        rowsPerBatch: 4,
        appendEos: true,
        eosId: BYTE_EOS,
        docStarts: true,
        dropLast: false,
        padId: 0,
      }),
    )) as RecordBatch<Packed>[];
    const dir = join(tmp, 'shards');
    await runOp(packed, writeShards({ dir, shardRows: 5 }));
    const cfg = trainConfig({
      runDir: join(tmp, 'run'),
      model: base,
      data: { train: dir, holdoutRows: 0, shuffle: false, seqLen: 24 },
      batchSize: 3,
      steps: 1,
    });
    const got: PackedBatch[] = [];
    for await (const b of shardTrainData(cfg).trainOnce()) got.push(b);
    const rows = packed.flatMap((b) => cells(b, 'input_ids'));
    const starts = packed.flatMap((b) => cells(b, 'doc_starts'));
    const masks = packed.flatMap((b) => cells(b, 'attention_mask'));
    expect(masks.at(-1)!.includes(0)).toBe(true);
    let r = 0;
    for (const b of got) {
      expect(b.docStarts).toBeDefined();
      expect(b.attentionMask).toBeDefined();
      for (let i = 0; i < b.batch; i++, r++) {
        expect(Array.from(b.inputIds.subarray(i * 25, (i + 1) * 25))).toEqual(rows[r]!.slice(0, 25));
        expect(Array.from(b.docStarts![i]!)).toEqual(starts[r]!.filter((s) => s <= 24));
        expect(Array.from(b.attentionMask!.subarray(i * 25, (i + 1) * 25))).toEqual(masks[r]!.slice(0, 25));
      }
    }
    expect(r).toBe(rows.length);
  });
});
