// A bench's integer arguments (`name=value` on `npm run bench -- NAME ...`), checked.

/** The integer `name=` in `args`, or `dflt`; an error naming the bench when it is not an integer >= min. */
export function intArg(bench: string, args: string[], name: string, dflt: number, min = 1): number {
  const a = args.find((x) => x.startsWith(`${name}=`));
  const v = a ? Number(a.slice(name.length + 1)) : dflt;
  if (!Number.isInteger(v) || v < min)
    throw new Error(`bench ${bench}: ${name} must be an integer >= ${min}, got ${a}`);
  return v;
}
