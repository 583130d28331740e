// sacrebleu's reference layout: references[k][i] is the k-th reference of segment i, a null meaning
// that segment has one reference fewer. Unlike sacrebleu (which zips and silently truncates) a
// stream of the wrong length is an error here, as in sacrebleu's command line.

/** Check the streams line up and return each segment's present references (nulls dropped, as sacrebleu). */
export function segmentRefs(
  where: string,
  hypotheses: readonly string[],
  references: ReadonlyArray<ReadonlyArray<string | null>>,
): string[][] {
  if (hypotheses.length === 0) throw new Error(`${where}: no hypotheses; pass at least one segment`);
  if (references.length === 0) throw new Error(`${where}: no reference streams; pass references[k][i]`);
  references.forEach((stream, k) => {
    if (stream.length !== hypotheses.length) {
      throw new Error(
        `${where}: reference stream ${k} has ${stream.length} segments but there are ${hypotheses.length} ` +
          `hypotheses; ` +
          'references[k][i] is the k-th reference of the i-th segment',
      );
    }
  });
  return hypotheses.map((_, i) => {
    const present = references.map((stream) => stream[i]).filter((r): r is string => r !== null && r !== undefined);
    if (present.length === 0)
      throw new Error(`${where}: segment ${i} has no reference (all null); give it at least one`);
    return present;
  });
}
