// Acceptance: near-dedup quality on a labelled set built from real documents (State of the Union
// addresses and SpamAssassin e-mails; exact copies and copies with word edits at 1, 2, 5, 10, 30%),
// against ground truth computed exactly on the shingle sets: precision >= 0.95 and recall >= 0.9 at
// Jaccard 0.8, with the default settings.
import { describe, expect, it } from 'vitest';
import { minhashDedup } from '../../../operators/dedup/minhash/filter.ts';
import { OperatorStats } from '../../../src/core/stats.ts';
import { docBatches, emailBodies, idsOf, runOp, sotu } from './corpus.ts';
import { EDIT_RATES, groundTruth, labelledSet } from './labelled.ts';

const THRESHOLD = 0.8;
const wordCount = (t: string) => t.split(/\s+/).length;

describe('near-dedup quality', () => {
  it(`precision >= 0.95 and recall >= 0.9 at Jaccard ${THRESHOLD} on real documents with known edits`, async () => {
    const originals = [
      ...sotu().filter((_, i) => i % 12 === 0),
      ...[...emailBodies('easy-ham-1', 12), ...emailBodies('spam-2', 8)].filter(
        (m) => wordCount(m.text) >= 50 && wordCount(m.text) < 5000,
      ),
    ];
    const docs = labelledSet(originals, 42);
    const truth = groundTruth(docs, 5, THRESHOLD);
    const stats = new OperatorStats('minhash');
    const kept = new Set(
      idsOf(
        await runOp(docBatches(docs, 128), minhashDedup({ threshold: THRESHOLD }, { stats, log: () => undefined })),
      ),
    );

    let tp = 0,
      fp = 0,
      fn = 0;
    docs.forEach((d, i) => {
      const dropped = !kept.has(d.id);
      if (dropped && truth.duplicate[i]) tp++;
      else if (dropped) fp++;
      else if (truth.duplicate[i]) fn++;
    });
    const precision = tp / (tp + fp),
      recall = tp / (tp + fn);
    console.log(
      `labelled set: ${originals.length} originals, ${docs.length} documents, ${tp + fn} true near-duplicates (J >= ${THRESHOLD} with an earlier one)`,
    );
    for (const rate of ['exact', ...EDIT_RATES] as const) {
      const idx = docs.flatMap((d, i) => (d.rate === rate ? [i] : []));
      const js = idx.map((i) => truth.toOrigin[i]!).sort((a, b) => a - b);
      const drop = idx.filter((i) => !kept.has(docs[i]!.id)).length;
      console.log(
        `  copies ${String(rate).padEnd(5)}: Jaccard to original median ${js[js.length >> 1]!.toFixed(3)} ` +
          `[${js[0]!.toFixed(3)}, ${js[js.length - 1]!.toFixed(3)}], dropped ${drop}/${idx.length} (the stream is shuffled: the later of a pair goes)`,
      );
    }
    console.log(
      `near-dedup precision ${precision.toFixed(4)}, recall ${recall.toFixed(4)} (tp ${tp}, fp ${fp}, fn ${fn})`,
    );
    expect(tp + fn).toBeGreaterThan(docs.length / 4); // the set has real positives and real negatives
    expect(stats.dropReasons.get('near_duplicate')).toBe(tp + fp);
    expect(precision).toBeGreaterThanOrEqual(0.95);
    expect(recall).toBeGreaterThanOrEqual(0.9);
  });
});
