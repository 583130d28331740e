// Pages of the Linux kernel's documentation as Debian ships it (linux-doc-6.1: Sphinx HTML, lang
// attributes, toctree link lists, headerlinks); test/setup installs the package.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const KERNEL_HTML = '/usr/share/doc/linux-doc-6.1/html';

/** Every `every`-th HTML page (sorted paths), or the named ones. */
export function kernelPages(every: number, ...names: string[]): Array<{ name: string; html: string }> {
  if (!existsSync(KERNEL_HTML))
    throw new Error(`${KERNEL_HTML} is missing: install the Debian package linux-doc-6.1 (test/setup)`);
  const all =
    names.length > 0
      ? names
      : readdirSync(KERNEL_HTML, { recursive: true })
          .map(String)
          .filter((f) => f.endsWith('.html'))
          .sort()
          .filter((_, i) => i % every === 0);
  return all.map((name) => ({ name, html: readFileSync(join(KERNEL_HTML, name), 'utf8') }));
}
