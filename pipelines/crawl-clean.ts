// Web text, the first half of data preparation: crawl -> extract main text -> normalise -> quality
// filters (Gopher, C4) -> language -> PII redaction -> exact dedup -> near dedup -> Parquet.
//
//   python3 -m http.server 8080 -d /usr/share/doc/postgresql-doc-15/html &   # any site you may crawl
//   npx flowlm run pipelines/crawl-clean.ts --set 'crawl.seeds=["http://127.0.0.1:8080/index.html"]'
//
// The defaults crawl a loopback server (addresses other than 127.0.0.1 that are private are refused);
// point `crawl.seeds` elsewhere and drop `allowAddresses` for the public web.
import { pipeline } from '../src/graph/spec.ts';
import { crawl } from '../operators/ingest/crawl.ts';
import { extractHtml } from '../operators/clean/extract-html.ts';
import { normalize } from '../operators/clean/normalize.ts';
import { quality } from '../operators/clean/quality.ts';
import { language } from '../operators/clean/language.ts';
import { pii } from '../operators/clean/pii.ts';
import { exactDedup } from '../operators/dedup/exact.ts';
import { minhashDedup } from '../operators/dedup/minhash/filter.ts';
import { writeParquet } from '../operators/io/write-parquet.ts';

export default pipeline({
  name: 'crawl-clean',
  budget: { maxInFlight: 8 },
  steps: [
    {
      id: 'crawl',
      op: crawl,
      config: {
        seeds: ['http://127.0.0.1:8080/index.html'],
        allowAddresses: ['127.0.0.1'],
        maxPages: 2000,
        maxDepth: 8,
        concurrency: 8,
        perHostConcurrency: 4,
        politeness: false,
      },
    },
    { id: 'extract', op: extractHtml, workers: 2 },
    { id: 'normalize', op: normalize },
    { id: 'quality', op: quality },
    { id: 'language', op: language, config: { allowed: ['en'] } },
    { id: 'pii', op: pii },
    { id: 'exact', op: exactDedup },
    { id: 'minhash', op: minhashDedup, config: { threshold: 0.8 } },
    { id: 'write', op: writeParquet, config: { path: 'out/crawl-clean/docs.parquet' } },
  ],
});
