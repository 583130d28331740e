// erf and erfc to double precision (fdlibm's s_erf.c rational approximations, which Optuna's _erf.py
// also follows): JS has no Math.erf, and the TPE's truncated normals need erfc in the far tails.

// erf on [0, 0.84375): x + x * pp(x^2) / qq(x^2)
const PP = [
  1.28379167095512558561e-1, -3.2504210724700149937e-1, -2.84817495755985104766e-2, -5.77027029648944159157e-3,
  -2.37630166566501626084e-5,
];
const QQ = [
  1, 3.97917223959155352819e-1, 6.50222499887672944485e-2, 5.08130628187576562776e-3, 1.32494738004321644526e-4,
  -3.9602282787753681232e-6,
];
// erf on [0.84375, 1.25): erx + pa(|x|-1) / qa(|x|-1)
const ERX = 8.45062911510467529297e-1;
const PA = [
  -2.36211856075265944077e-3, 4.14856118683748331666e-1, -3.72207876035701323847e-1, 3.18346619901161753674e-1,
  -1.10894694282396677476e-1, 3.54783043256182359371e-2, -2.166375594868790843e-3,
];
const QA = [
  1, 1.06420880400844228286e-1, 5.40397917702171048937e-1, 7.18286544141962662868e-2, 1.26171219808761642112e-1,
  1.36370839120290507362e-2, 1.1984499846799107417e-2,
];
// erfc on [1.25, 1/0.35): exp(-x^2 - 0.5625 + ra(1/x^2) / sa(1/x^2)) / x
const RA = [
  -9.86494403484714822705e-3, -6.93858572707181764372e-1, -1.05586262253232909814e1, -6.23753324503260060396e1,
  -1.62396669462573470355e2, -1.84605092906711035994e2, -8.12874355063065934246e1, -9.81432934416914548592,
];
const SA = [
  1, 1.96512716674392571292e1, 1.376577541435190426e2, 4.34565877475229228821e2, 6.45387271733267880336e2,
  4.29008140027567833386e2, 1.08635005541779435134e2, 6.57024977031928170135, -6.04244152148580987438e-2,
];
// erfc on [1/0.35, 28)
const RB = [
  -9.86494292470009928597e-3, -7.99283237680523006574e-1, -1.77579549177547519889e1, -1.60636384855821916062e2,
  -6.37566443368389627722e2, -1.02509513161107724954e3, -4.83519191608651397019e2,
];
const SB = [
  1, 3.03380607434824582924e1, 3.25792512996573918826e2, 1.53672958608443695994e3, 3.19985821950859553908e3,
  2.55305040643316442583e3, 4.74528541206955367215e2, -2.24409524465858183362e1,
];

function poly(c: readonly number[], x: number): number {
  let r = c[c.length - 1]!;
  for (let i = c.length - 2; i >= 0; i--) r = r * x + c[i]!;
  return r;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const LOW = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1; // index of the low word

/** erfc(x) for x >= 1.25: the exponent split as fdlibm does (x's low word cleared) to keep precision. */
function erfcTail(x: number): number {
  const s = 1 / (x * x);
  const rs = x < 1 / 0.35 ? poly(RA, s) / poly(SA, s) : poly(RB, s) / poly(SB, s);
  f64[0] = x;
  u32[LOW] = 0;
  const z = f64[0];
  return (Math.exp(-z * z - 0.5625) * Math.exp((z - x) * (z + x) + rs)) / x;
}

export function erf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const a = Math.abs(x);
  if (a < 2 ** -28) return x + PP[0]! * x;
  if (a < 0.84375) return x + x * (poly(PP, x * x) / poly(QQ, x * x));
  if (a < 1.25) return Math.sign(x) * (ERX + poly(PA, a - 1) / poly(QA, a - 1));
  if (a < 6) return Math.sign(x) * (1 - erfcTail(a));
  return Math.sign(x);
}

export function erfc(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const a = Math.abs(x);
  if (a < 0.84375) {
    const y = x * (poly(PP, x * x) / poly(QQ, x * x));
    return x < 0.25 ? 1 - (x + y) : 0.5 - (x - 0.5 + y);
  }
  if (a < 1.25) {
    const pq = poly(PA, a - 1) / poly(QA, a - 1);
    return x > 0 ? 1 - ERX - pq : 1 + ERX + pq;
  }
  if (a < 28) return x > 0 ? erfcTail(a) : 2 - erfcTail(a);
  return x > 0 ? 0 : 2;
}
