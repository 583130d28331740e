// `flowlm tokenizer --help`.
export function tokenizerHelp(): string {
  return `Usage: flowlm tokenizer train --type bpe|wordpiece|unigram --vocab N --out FILE [options]

Trains a tokenizer on the documents of --input (files or globs, any reader flowlm prep uses; none: the
embedded corpus of State of the Union addresses and Moby-Dick) and writes it as a Hugging Face
tokenizer.json (use it with flowlm prep --tokenizer FILE, or tokenizers' Tokenizer.from_file).
  bpe        byte-level BPE, GPT-2 style: GPT-2's pre-tokenizer, 256 byte tokens, then merges of the most
             frequent pair (ties: the pair whose first, then second token's bytes are smallest);
             special tokens (default <|endoftext|>) after the merges
  wordpiece  BERT style: BertNormalizer (lower case, accents stripped unless --no-lowercase), whitespace and
             punctuation split, '##' continuation; merge score count(ab) / (count(a) count(b));
             specials (default [PAD] [UNK] [CLS] [SEP] [MASK]) first
  unigram    SentencePiece's Unigram algorithm on its normalized '▁' words (Metaspace in tokenizer.json)

Options:
  -i, --input FILES        files or globs (repeatable; quote globs); default: the embedded corpus
      --type T             bpe (default), wordpiece or unigram
      --vocab N            vocabulary size, special tokens included (required)
  -o, --out FILE           the tokenizer.json to write, atomically (required)
      --tiktoken FILE      bpe: also write tiktoken ranks (base64 of the token's bytes, space, rank per line)
      --max-memory-mb M    bound on the piece counts held in memory (default 512); beyond it counts spill to
                           sorted runs on disk and are merged at the end: exact counts at any corpus size
      --special TOKEN      a special token (repeatable; replaces the type's defaults)
      --no-lowercase       wordpiece: keep case and accents
      --min-frequency N    bpe, wordpiece: pairs seen fewer than N times are not merged (default 2)
      --json               one JSON summary object as the last stdout line
      --progress MODE      auto | bars | plain | none (stderr)
  -h, --help               show help

Prints the vocabulary and merge counts, the input's size and MB/s (counting and training times apart).

Example:
  flowlm tokenizer train --input 'data/*.txt' --type bpe --vocab 32000 --out out/tok.json --tiktoken out/tok.tiktoken
`;
}
