// Hugging Face's WordPiece model: greedy longest match first, pieces after the first carry the
// continuing_subword_prefix ("##"); a word with no full segmentation, or longer than
// max_input_chars_per_word characters, is the unknown token.
import { PieceTrie } from '../spm/piece-trie.ts';
import { type Json, str } from './json.ts';
import type { EncodeWord } from './bpe-model.ts';

export function wordPieceModel(o: Json, vocab: Map<string, number>, where: string): EncodeWord {
  const unkToken = str(o, 'unk_token', where, '[UNK]');
  const unk = vocab.get(unkToken);
  if (unk === undefined) throw new Error(`${where}.unk_token ${unkToken} is not in the vocabulary`);
  const prefix = typeof o.continuing_subword_prefix === 'string' ? o.continuing_subword_prefix : '##';
  const maxChars = typeof o.max_input_chars_per_word === 'number' ? o.max_input_chars_per_word : 100;
  const trie = new PieceTrie();
  for (const [piece, id] of vocab) trie.add(piece, id);
  // the node after the prefix: continuation pieces are searched from there
  let cont = 0;
  for (let k = 0; k < prefix.length && cont >= 0; k++) cont = trie.step(cont, prefix.charCodeAt(k));
  return (word) => {
    let chars = 0;
    for (const _ of word) if (++chars > maxChars) return [unk];
    const ids: number[] = [];
    for (let start = 0; start < word.length; ) {
      let node = start === 0 ? 0 : cont;
      let bestEnd = -1,
        bestId = -1;
      for (let k = start; k < word.length && node >= 0; k++) {
        node = trie.step(node, word.charCodeAt(k));
        if (node < 0) break;
        const id = trie.idAt(node);
        // a match must end on a character boundary (not between the halves of a surrogate pair)
        const c = word.charCodeAt(k);
        if (id >= 0 && !(c >= 0xd800 && c <= 0xdbff)) {
          bestEnd = k + 1;
          bestId = id;
        }
      }
      if (bestEnd < 0) return [unk];
      ids.push(bestId);
      start = bestEnd;
    }
    return ids;
  };
}
