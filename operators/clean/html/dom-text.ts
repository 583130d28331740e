// Readable text from a DOM subtree: block elements become line or paragraph breaks, inline text has
// its whitespace collapsed, <pre> keeps its own. Readability's `textContent` keeps the page source's
// indentation and loses paragraph breaks, which later line-based filters (C4, Gopher) depend on.

/** The slice of the DOM this walker needs (linkedom's nodes have it; lib.dom is not loaded here). */
export interface DomNode {
  nodeType: number;
  localName?: string;
  nodeValue: string | null;
  // linkedom keeps the tree as a flat list: childNodes is rebuilt by a scan on every read, while
  // firstChild and nextSibling are pointer hops, so walks use only those
  firstChild: DomNode | null;
  nextSibling: DomNode | null;
  getAttribute?(name: string): string | null;
}

const PARAGRAPH = new Set([
  'p',
  'div',
  'section',
  'article',
  'main',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'pre',
  'blockquote',
  'table',
  'ul',
  'ol',
  'dl',
  'figure',
  'form',
  'address',
  'fieldset',
  'details',
  'header',
  'footer',
  'aside',
  'nav',
  'hr',
]);
const LINE = new Set([
  'li',
  'tr',
  'dt',
  'dd',
  'caption',
  'figcaption',
  'summary',
  'option',
  'legend',
  'tbody',
  'thead',
  'tfoot',
]);
const CELL = new Set(['td', 'th']);
/** never text: code, styling, embedded objects, form widgets */
export const NEVER_TEXT = new Set([
  'script',
  'style',
  'noscript',
  'template',
  'svg',
  'math',
  'iframe',
  'object',
  'embed',
  'canvas',
  'head',
  'title',
  'meta',
  'link',
  'select',
  'button',
  'input',
  'textarea',
]);

export interface DomTextOptions {
  /** extra elements to skip entirely (checked before descending) */
  skip?: (el: DomNode) => boolean;
}

export function domText(root: DomNode, opts: DomTextOptions = {}): string {
  const out: string[] = [];
  let pendingBreak = 0; // 0 none, 1 newline, 2 blank line
  let atStart = true;
  let lastSpace = true;
  const brk = (n: number) => {
    if (n > pendingBreak) pendingBreak = n;
  };
  const write = (s: string) => {
    if (s.length === 0) return;
    if (!atStart && pendingBreak > 0) {
      out.push(pendingBreak === 2 ? '\n\n' : '\n');
      lastSpace = true;
    }
    pendingBreak = 0;
    atStart = false;
    out.push(s);
    lastSpace = /\s$/.test(s);
  };
  // an explicit stack, not recursion: hostile pages nest elements deeper than the call stack goes
  type Frame = { pre: boolean; block: number; next: DomNode | null };
  const stack: Frame[] = [];
  const enter = (node: DomNode, pre: boolean) => {
    if (node.nodeType === 3) {
      const v = node.nodeValue ?? '';
      if (pre) {
        write(v);
        return;
      }
      let t = v.replace(/\s+/g, ' ');
      if ((lastSpace || pendingBreak > 0 || atStart) && t.startsWith(' ')) t = t.slice(1);
      write(t);
      return;
    }
    if (node.nodeType !== 1 && node.nodeType !== 9 && node.nodeType !== 11) return;
    const tag = node.localName ?? '';
    if (NEVER_TEXT.has(tag) || (opts.skip && node.nodeType === 1 && opts.skip(node))) return;
    if (tag === 'br') {
      brk(1);
      lastSpace = true;
      return;
    }
    const block = PARAGRAPH.has(tag) ? 2 : LINE.has(tag) ? 1 : 0;
    if (block) brk(block);
    else if (CELL.has(tag) && !lastSpace && !atStart && pendingBreak === 0) write(' ');
    stack.push({ pre: pre || tag === 'pre', block, next: node.firstChild });
  };
  enter(root, false);
  while (stack.length > 0) {
    const f = stack[stack.length - 1]!;
    const child = f.next;
    if (child) {
      f.next = child.nextSibling;
      enter(child, f.pre);
      continue;
    }
    stack.pop();
    if (f.block) brk(f.block);
  }
  return out
    .join('')
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
