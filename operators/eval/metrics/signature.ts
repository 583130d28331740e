// sacrebleu 2.x reproducibility signatures (sacrebleu/metrics/base.py Signature.format): the shared
// fields, then the metric's own, version always last, unset fields left out; `short` uses abbreviations.

/** The sacrebleu release our metrics reproduce (fixtures: v2.6.0, commit f591c7e); the default `version:`. */
export const SACREBLEU_VERSION = '2.6.0';

/** Fields every sacrebleu signature may carry besides the metric's own. */
export interface SignatureContext {
  /** References per segment; 'var' when segments have different numbers (sacrebleu's `nrefs:var`). Default 1. */
  nrefs?: number | 'var';
  /** The version string to print. Default SACREBLEU_VERSION. */
  version?: string;
  /** Abbreviated keys (`#:1|c:mixed|...|v:2.6.0`), as `sacrebleu --short`. */
  short?: boolean;
  /** Bootstrap resampling trials (`bs:`) of a confidence interval or paired test. */
  nBootstrap?: number;
  /** Approximate randomization trials (`ar:`) of a paired significance test. */
  arTrials?: number;
  /** The seed of the resampling (`seed:`). */
  seed?: number;
  /** The test set, language pair, original-language and subset filters of a built-in test set. */
  testSet?: string;
  langPair?: string;
  origLang?: string;
  subset?: string;
}

type Field = readonly [name: string, abbr: string, value: string | number | undefined];

/** The signature string: shared fields in sacrebleu's order, then `metricFields`, then the version. */
export function formatSignature(ctx: SignatureContext, metricFields: readonly Field[]): string {
  const fields: Field[] = [
    ['nrefs', '#', ctx.nrefs ?? 1],
    ['bs', 'bs', ctx.nBootstrap],
    ['ar', 'ar', ctx.arTrials],
    ['seed', 'rs', ctx.seed],
    ['test', 't', ctx.testSet],
    ['lang', 'l', ctx.langPair],
    ['origlang', 'o', ctx.origLang],
    ['subset', 'S', ctx.subset],
    ...metricFields,
    ['version', 'v', ctx.version ?? SACREBLEU_VERSION],
  ];
  return fields
    .filter((f) => f[2] !== undefined)
    .map(([name, abbr, value]) => `${ctx.short ? abbr : name}:${value}`)
    .join('|');
}

/** sacrebleu's `nrefs`: the one count of present (non-null) references per segment, or 'var'. */
export function countRefs(perSegment: readonly number[]): number | 'var' {
  const distinct = new Set(perSegment);
  return distinct.size === 1 ? (perSegment[0] ?? 0) : 'var';
}
