// Peak RSS as a program reports it: its own high-water mark, also when a larger process started it
// (getrusage's maxRSS would report the parent's size at the fork).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { peakRssMb } from '../../src/runtime/peak-rss.ts';
import { TS_IMPORT } from '../cli/spawn.ts';

describe('peakRssMb', () => {
  it('is at least the current RSS, and a small child started from this larger process reports its own', () => {
    const ballast = Buffer.alloc(300 << 20, 1); // this process now holds 300 MB more than a bare node
    const now = process.memoryUsage().rss / 2 ** 20;
    expect(peakRssMb()).toBeGreaterThanOrEqual(now - 1);
    const url = new URL('../../src/runtime/peak-rss.ts', import.meta.url).href;
    const out = execFileSync(
      process.execPath,
      [
        '--import',
        TS_IMPORT,
        '--input-type=module',
        '-e',
        `import { peakRssMb } from ${JSON.stringify(url)}; console.log(peakRssMb(), process.resourceUsage().maxRSS / 1024)`,
      ],
      { encoding: 'utf8' },
    );
    const [own, rusage] = out.trim().split(' ').map(Number) as [number, number];
    expect(own).toBeLessThan(now / 2);
    expect(own).toBeGreaterThan(10);
    console.log(
      `parent RSS ${now.toFixed(0)} MiB; child: VmHWM ${own.toFixed(0)} MiB, getrusage maxRSS ${rusage.toFixed(0)} MiB`,
    );
    expect(ballast[ballast.length - 1]).toBe(1);
  });
});
