// Converts a SentencePiece .model into a Hugging Face tokenizer.json the way HF's converters do
// (convert_slow_tokenizer.py): Llama-style for models without normalization rules (Prepend "▁" when
// add_dummy_prefix, Replace " " -> "▁", no pre-tokenizer), else the charsmap as a Precompiled
// normalizer with spaces stripped and collapsed as spm does; model Unigram ([piece, score], unk_id)
// or BPE with merges from the vocabulary (SentencePieceExtractor: every split of a piece into two
// pieces, ordered by the piece's score); byte_fallback as trained; "<s> $A" as the template.
// Run `npx tsx test/operators/tokenize/load/spm-to-hf.ts MODEL OUT.json` to write one.
import { readFileSync, writeFileSync } from 'node:fs';
import { PieceType, parseSpmModel } from '../../../../operators/tokenize/spm/proto.ts';

export function spmToHf(bytes: Uint8Array, where: string): object {
  const m = parseSpmModel(bytes, where);
  const n = m.normalizer;
  const t = m.trainer;
  const normalizers: object[] = [];
  if (n.precompiledCharsmap.length > 0)
    normalizers.push({
      type: 'Precompiled',
      precompiled_charsmap: Buffer.from(n.precompiledCharsmap).toString('base64'),
    });
  if (n.removeExtraWhitespaces)
    normalizers.push(
      { type: 'Strip', strip_left: true, strip_right: true },
      { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' },
    );
  if (n.addDummyPrefix) normalizers.push({ type: 'Prepend', prepend: '\u2581' });
  if (n.escapeWhitespaces) normalizers.push({ type: 'Replace', pattern: { String: ' ' }, content: '\u2581' });
  const special = (id: number) => m.pieces[id]!.type === PieceType.CONTROL || m.pieces[id]!.type === PieceType.UNKNOWN;
  const added = m.pieces
    .map((p, id) => ({
      id,
      content: p.piece,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    }))
    .filter((a) => special(a.id));
  const model =
    t.modelType === 'unigram'
      ? {
          type: 'Unigram',
          unk_id: t.unkId,
          vocab: m.pieces.map((p) => [p.piece, p.score]),
          byte_fallback: t.byteFallback,
        }
      : bpeModel(m.pieces, t.byteFallback, m.pieces[t.unkId]!.piece);
  const bos = t.bosId >= 0 ? m.pieces[t.bosId]!.piece : undefined;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: { type: 'Sequence', normalizers },
    pre_tokenizer: null,
    post_processor: bos
      ? {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [
            { SpecialToken: { id: bos, type_id: 0 } },
            { Sequence: { id: 'A', type_id: 0 } },
            { Sequence: { id: 'B', type_id: 1 } },
          ],
          special_tokens: { [bos]: { id: bos, ids: [t.bosId], tokens: [bos] } },
        }
      : null,
    decoder: null,
    model,
  };
}

function bpeModel(
  pieces: { piece: string; score: number; type: number }[],
  byteFallback: boolean,
  unk: string,
): object {
  const vocab: Record<string, number> = {};
  pieces.forEach((p, id) => {
    vocab[p.piece] = id;
  });
  // SentencePieceExtractor: for each piece by descending score, every split into two pieces
  const merges: [string, string, number][] = [];
  const byScore = pieces
    .map((p, id) => ({ ...p, id }))
    .filter((p) => p.type === PieceType.NORMAL || p.type === PieceType.USER_DEFINED)
    .sort((a, b) => b.score - a.score || a.id - b.id);
  for (const p of byScore) {
    const local: [string, string, number][] = [];
    const cps = [...p.piece];
    for (let k = 1; k < cps.length; k++) {
      const l = cps.slice(0, k).join(''),
        r = cps.slice(k).join('');
      if (vocab[l] !== undefined && vocab[r] !== undefined) local.push([l, r, p.score]);
    }
    local.sort((a, b) => vocab[a[0]]! - vocab[b[0]]! || vocab[a[1]]! - vocab[b[1]]!);
    merges.push(...local);
  }
  return {
    type: 'BPE',
    dropout: null,
    unk_token: unk,
    continuing_subword_prefix: null,
    end_of_word_suffix: null,
    fuse_unk: true,
    byte_fallback: byteFallback,
    vocab,
    merges: merges.map(([l, r]) => [l, r]),
  };
}

if (process.argv[1]?.endsWith('spm-to-hf.ts') && process.argv[3]) {
  const [model, out] = process.argv.slice(2) as [string, string];
  writeFileSync(out, JSON.stringify(spmToHf(readFileSync(model), model)));
}
