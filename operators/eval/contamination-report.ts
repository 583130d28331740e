// What decontamination found, kept as training documents are scanned: per eval task, which of its items
// (document indices in task.docs() order) share an n-gram with training data, and which training
// documents did, with how many of the task's items each one hit. Written as JSON when the scan ends
// (temp file + rename, so a reader never sees half a report).
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Task } from '../../src/eval/task.ts';
import { NgramIndex, type NgramIndexOptions, type Posting } from './ngram-index.ts';

export interface TaskContamination {
  task: string;
  /** the task's documents (eval items) */
  items: number;
  /** items long enough to be checked (at least minWords words in some text) */
  checked: number;
  /** items sharing an n-gram with some training document */
  contaminated: number;
  /** their document indices, ascending */
  contaminatedItems: number[];
  /** training documents that hit this task: id (or "#k", the k-th document scanned, when it has none)
   * and how many of the task's items it hit */
  trainingDocs: Array<{ id: string; items: number }>;
}

export interface ContaminationReport {
  n: number;
  minWords: number;
  mode: 'drop' | 'flag' | 'report';
  /** training documents scanned */
  documents: number;
  /** training documents that hit any task */
  contaminatedDocuments: number;
  tasks: TaskContamination[];
}

/** The eval tasks' n-gram index with their item counts. */
export interface EvalIndex {
  index: NgramIndex;
  tasks: Array<{ name: string; items: number; checked: number }>;
}

/** Indexes every item's texts (task.texts(doc)) of every task, in order. */
export async function indexTasks(tasks: readonly Task[], options: NgramIndexOptions): Promise<EvalIndex> {
  const index = new NgramIndex(options);
  const out: EvalIndex['tasks'] = [];
  for (let t = 0; t < tasks.length; t++) {
    const task = tasks[t]!;
    const docs = await task.docs();
    let checked = 0;
    for (let i = 0; i < docs.length; i++) if (index.add(t, i, task.texts(docs[i]))) checked++;
    out.push({ name: task.name, items: docs.length, checked });
  }
  return { index, tasks: out };
}

/** The running tally of one scan over training documents. */
export class ContaminationTally {
  private documents = 0;
  private contaminatedDocuments = 0;
  private readonly items: Array<Set<number>>;
  private readonly docs: Array<Map<string, number>>;
  // the current document's hits, as task * 2^32 + item (deduplicated: many windows hit one item)
  private readonly seen = new Set<number>();
  private readonly onHit = (p: Posting) => {
    this.seen.add(p.task * 2 ** 32 + p.item);
  };

  constructor(readonly eval_: EvalIndex) {
    this.items = eval_.tasks.map(() => new Set());
    this.docs = eval_.tasks.map(() => new Map());
  }

  /** Scans one training document; true when it shares an n-gram with an eval item. */
  check(text: string, id: string | null): boolean {
    const k = this.documents++;
    this.seen.clear();
    this.eval_.index.scan(text, this.onHit);
    if (this.seen.size === 0) return false;
    this.contaminatedDocuments++;
    const name = id ?? `#${k}`;
    for (const key of this.seen) {
      const task = Math.floor(key / 2 ** 32);
      this.items[task]!.add(key % 2 ** 32);
      const docs = this.docs[task]!;
      docs.set(name, (docs.get(name) ?? 0) + 1);
    }
    return true;
  }

  report(mode: ContaminationReport['mode']): ContaminationReport {
    const { n, minWords } = this.eval_.index.options;
    return {
      n,
      minWords,
      mode,
      documents: this.documents,
      contaminatedDocuments: this.contaminatedDocuments,
      tasks: this.eval_.tasks.map((t, i) => {
        const items = [...this.items[i]!].sort((a, b) => a - b);
        return {
          task: t.name,
          items: t.items,
          checked: t.checked,
          contaminated: items.length,
          contaminatedItems: items,
          trainingDocs: [...this.docs[i]!].map(([id, count]) => ({ id, items: count })),
        };
      }),
    };
  }
}

/** Writes `report` to `path` atomically (a temporary file in the same folder, renamed into place). */
export function writeReport(path: string, report: ContaminationReport): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(report, null, 2)}\n`);
  renameSync(tmp, path);
}
