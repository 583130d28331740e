// The cleaning stage: HTML main text, Unicode/whitespace normalisation, Gopher/C4 quality rules,
// language identification, PII redaction and the lexical toxicity filter. Each is a parallel kernel
// operator (worker pool ready).
export { extractHtml, extractMainText } from './extract-html.ts';
export { normalize, normalizeText } from './normalize.ts';
export { quality, qualityAssessor, QUALITY_RULES, QUALITY_SIGNALS } from './quality.ts';
export { language, identifyLanguage } from './language.ts';
export { pii, redactPii, PII_KINDS } from './pii.ts';
export { toxicity, toxicityScorer, TOXICITY_LISTS } from './toxicity.ts';
