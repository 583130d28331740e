// rouge-score's DefaultTokenizer (google-research rouge/tokenize.py + tokenizers.py): lowercase, every
// run of characters outside [a-z0-9] becomes one space, split on whitespace, Porter-stem the tokens
// longer than 3 characters (NLTK's default mode), drop empty tokens. Lowercasing comes first, so the
// characters whose lowercase is ASCII ('İ' -> 'i' + U+0307, the Kelvin sign -> 'k') do make tokens,
// exactly as Python's str.lower() makes them.

import { PorterStemmer } from './porter-stemmer.ts';

const NON_ALPHANUM = /[^a-z0-9]+/g;

/** Turns a text into tokens; rougeScorer accepts any such function in place of the default. */
export type RougeTokenizer = (text: string) => string[];

/** rouge/tokenize.py's tokenize(text, stemmer): the tokens of `text`, stemmed when a stemmer is given. */
export function rougeTokenize(text: string, stemmer?: PorterStemmer | null): string[] {
  // After the replace only [a-z0-9 ] are left, so splitting on ' ' is rouge's re.split(r'\s+').
  const words = text.toLowerCase().replace(NON_ALPHANUM, ' ').split(' ');
  const tokens: string[] = [];
  for (const w of words) {
    const token = stemmer && w.length > 3 ? stemmer.stem(w) : w;
    if (token.length > 0) tokens.push(token);
  }
  return tokens;
}

/** tokenizers.DefaultTokenizer(use_stemmer): one stemmer, built once, as rouge-score does. */
export function defaultRougeTokenizer(useStemmer = false): RougeTokenizer {
  const stemmer = useStemmer ? new PorterStemmer('NLTK_EXTENSIONS') : null;
  return (text) => rougeTokenize(text, stemmer);
}
