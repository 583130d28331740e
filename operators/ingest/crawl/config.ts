// The crawler's configuration: one zod schema, every field described, defaults polite and safe
// (robots honoured, 1 s between requests to a host, private and loopback addresses refused).
import { z } from 'zod';
import { parseAddressRange } from './address-policy.ts';

const httpUrl = z.string().refine(
  (s) => {
    try {
      const u = new URL(s);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  },
  { message: 'expected an absolute http:// or https:// URL (other schemes are refused)' },
);

// a pattern with a scheme or a path ("https://example.com", "example.com/docs") would match no host,
// and a scope that is not a URL no link: the crawl would quietly stop at its seeds
const hostPattern = z
  .string()
  .regex(
    /^(\*\.)?(\[[0-9A-Fa-f:.]+\]|[^\s:/?#@[\]*]+)(:(6553[0-5]|655[0-2]\d|65[0-4]\d\d|6[0-4]\d{3}|[1-5]?\d{1,4}))?$/,
    'expected a host pattern: "example.com", "example.com:8080" (that port only) or "*.example.com"; no scheme or path',
  );

// checked here, not when the crawler starts, so a bad entry fails validation with its path (exit 2)
const addressRange = z.string().superRefine((s, ctx) => {
  const r = parseAddressRange(s);
  if (typeof r === 'string') ctx.addIssue({ code: 'custom', message: r });
});

export const CrawlConfig = z.object({
  seeds: z.array(httpUrl).min(1).describe('start URLs (http or https); fetched at depth 0'),
  allowedHosts: z
    .array(hostPattern)
    .optional()
    .describe(
      'hosts the crawl may visit: "example.com", "example.com:8080" (that port only) or "*.example.com"; default: ' +
        "the seeds' hosts",
    ),
  scope: z
    .array(httpUrl)
    .default([])
    .describe(
      'URL prefixes (after normalisation) a page must start with to be fetched; empty = anything on an allowed host',
    ),
  source: z.string().default('crawl').describe('value of the source column'),
  userAgent: z.string().min(1).default('flowlm-crawler/0.1').describe('User-Agent header sent with every request'),
  robotsAgent: z
    .string()
    .optional()
    .describe('token matched against robots.txt User-agent groups; default: userAgent up to its first "/"'),

  maxPages: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe(
      'most page visits (each an HTTP request; redirect hops count, robots.txt does not) in this run; the rest ' +
        'stays in the frontier',
    ),
  maxDepth: z
    .number()
    .int()
    .min(0)
    .default(10)
    .describe('links deeper than this many hops from a seed are not followed'),
  maxBytes: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('most response-body bytes read in this run; reading stops at the limit and the crawl ends'),
  maxTimeMs: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('wall-clock limit of this run; in-flight requests are aborted and go back to the frontier'),

  robots: z
    .boolean()
    .default(true)
    .describe('fetch and honour robots.txt (Disallow/Allow, Crawl-delay) once per origin'),
  robotsTimeoutMs: z.number().int().min(1).default(10_000).describe('timeout of the robots.txt request'),
  robotsUnavailable: z
    .enum(['disallow', 'allow'])
    .default('disallow')
    .describe(
      'what a 5xx, timeout or network error on robots.txt means (RFC 9309: disallow); 4xx always means allow all',
    ),
  maxCrawlDelayMs: z.number().int().min(0).default(30_000).describe('upper bound applied to a robots.txt Crawl-delay'),

  politeness: z
    .boolean()
    .default(true)
    .describe('space requests to one origin by delayMs (or the robots Crawl-delay when longer); false ignores both'),
  delayMs: z.number().int().min(0).default(1000).describe('minimum time between request starts to one origin'),
  concurrency: z
    .number()
    .int()
    .min(1)
    .max(256)
    .default(8)
    .describe('requests in flight at once (also how far the crawl fetches ahead)'),
  perHostConcurrency: z.number().int().min(1).default(2).describe('requests in flight at once to one origin'),

  connectTimeoutMs: z.number().int().min(1).default(10_000).describe('time allowed to resolve and connect'),
  timeoutMs: z.number().int().min(1).default(30_000).describe('time allowed for a whole response, headers and body'),
  maxRedirects: z
    .number()
    .int()
    .min(0)
    .default(5)
    .describe('redirect hops followed from one URL; a hop back into the chain is a loop'),
  maxBodyBytes: z
    .number()
    .int()
    .min(1)
    .default(10 * 1024 * 1024)
    .describe('responses larger than this are not kept: reading stops and the URL is reported as "too large"'),
  contentTypes: z
    .array(z.string().min(1))
    .default(['text/html', 'application/xhtml+xml'])
    .describe(
      'media types kept from 2xx responses; others are reported as "content-type" without reading the body; [] ' +
        'keeps all',
    ),
  query: z.enum(['keep', 'sort', 'drop']).default('keep').describe('URL normalisation of the query string'),

  allowAddresses: z
    .array(addressRange)
    .default([])
    .describe('IP addresses or CIDR ranges allowed although private/loopback/link-local (tests: ["127.0.0.1"])'),
  refusePrivate: z
    .boolean()
    .default(true)
    .describe(
      'refuse private, loopback, link-local, multicast and reserved addresses (checked on the resolved IP before ' +
        'connecting)',
    ),

  emitErrors: z
    .boolean()
    .default(false)
    .describe('also emit a row (empty text, status and error set) for each URL that was visited but gave no page'),
  maxFrontier: z
    .number()
    .int()
    .min(1)
    .default(1_000_000)
    .describe('most URLs waiting in the frontier; further new URLs are dropped'),
  seenMemoryMB: z
    .number()
    .min(1)
    .max(512)
    .default(64)
    .describe(
      'memory bound of the set of URLs met (admitted, dropped or too deep): exact 64-bit hashes while they fit in a ' +
        'quarter of it, then a Bloom filter of the rest; when the filter holds its capacity at seenFalsePositive, new ' +
        'URLs are dropped as "seen set full" (64 MB: exact to 1.05M URLs, then 14M at 1e-6)',
    ),
  seenFalsePositive: z
    .number()
    .gt(0)
    .max(0.1)
    .default(1e-6)
    .describe(
      "the seen set's Bloom filter rate: the probability that a URL never met is taken as seen (and so not fetched)",
    ),
  maxLinksPerPage: z
    .number()
    .int()
    .min(0)
    .default(10_000)
    .describe(
      'distinct links taken from one page; the rest are dropped as "page link limit" (counted per link occurrence)',
    ),
  statePath: z
    .string()
    .optional()
    .describe(
      'JSON file of the frontier (pending URLs; the seen set as raw bytes in a side file next to it, <name>.seen-a.bin ' +
        'or -b.bin, named in the JSON with its sha256), written atomically; an existing file is resumed',
    ),
  stateEveryPages: z
    .number()
    .int()
    .min(1)
    .default(200)
    .describe('save the frontier state after this many visited URLs'),
  warcPath: z
    .string()
    .optional()
    .describe('write every HTTP exchange (request and response records) to this WARC file, atomically'),
  warcGzip: z.boolean().default(true).describe('gzip each WARC record'),
  batchRows: z.number().int().min(1).default(64).describe('rows per output batch'),
});

export type CrawlConfigIn = z.input<typeof CrawlConfig>;
export type CrawlCfg = z.output<typeof CrawlConfig>;
