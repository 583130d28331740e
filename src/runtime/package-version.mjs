// The version of the package a file belongs to (the nearest package.json above it that names one), for
// cache keys: npm gives every installed file the same mtime, so path, size and mtime alone cannot tell
// one release of a package from the next. Remembered per directory. Plain JavaScript (hooks thread).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const byDir = new Map();

/** The version, or '' when no package.json above `file` names one. */
export function packageVersion(file) {
  const seen = [];
  let version = '';
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const known = byDir.get(dir);
    if (known !== undefined) {
      version = known;
      break;
    }
    seen.push(dir);
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (typeof pkg.version === 'string') {
        version = pkg.version;
        break;
      }
    } catch {} // none here, or one without a version (as dist/ folders have): look further up
    if (dir === dirname(dir)) break;
  }
  for (const d of seen) byDir.set(d, version);
  return version;
}
