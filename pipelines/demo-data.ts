// The data-only main job: read the embedded corpus paragraph by paragraph, normalise it on two
// worker threads, and write JSON Lines. Run: npm run demo (or flowlm run pipelines/demo-data.ts).
import { pipeline } from '../src/graph/spec.ts';
import { readText } from '../operators/ingest/read-text.ts';
import { normalize } from '../operators/clean/normalize.ts';
import { writeJsonl } from '../operators/io/write-jsonl.ts';
import { mobyDickChapters, sotuTexts } from '../operators/ingest/embedded-corpus.ts';

export default pipeline({
  name: 'demo-data',
  budget: { maxInFlight: 8 },
  steps: [
    {
      id: 'read',
      op: readText,
      config: { paths: [sotuTexts(), mobyDickChapters()], unit: 'paragraph', source: 'sotu+moby', minChars: 40 },
    },
    { id: 'normalize', op: normalize, workers: 2, config: { form: 'NFC' } },
    { id: 'write', op: writeJsonl, config: { path: 'out/demo-data/docs.jsonl' } },
  ],
});
