// One HTTP GET with every bound enforced while reading: connect timeout, whole-response timeout, body
// size cap, a shared byte budget, a content-type filter decided on the headers (the body of an unwanted
// type is never read), and an abort signal. node:http rather than fetch(): it exposes the socket's
// connect event and the raw headers (for WARC), and redirects are never followed here.
import type { LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { pinnedLookup } from './address-policy.ts';

export type FetchFailure =
  | 'timeout'
  | 'too large'
  | 'content-type'
  | 'incomplete response'
  | 'connection error'
  | 'byte limit'
  | 'aborted';

export interface FetchOptions {
  userAgent: string;
  connectTimeoutMs: number;
  timeoutMs: number;
  maxBodyBytes: number;
  /** media types accepted from 2xx responses; empty accepts any */
  contentTypes: readonly string[];
  /** keep the first maxBodyBytes and succeed instead of failing with "too large" (robots.txt) */
  truncate?: boolean;
  /** asked before each body chunk is kept; false stops reading with "byte limit" */
  take?: (bytes: number) => boolean;
  signal?: AbortSignal;
  /** permitted addresses of the host, already checked by the address policy */
  addresses: readonly LookupAddress[];
  agent?: http.Agent;
}

export interface FetchResult {
  url: URL;
  /** null when no response arrived */
  status: number | null;
  statusText: string;
  httpVersion: string;
  rawHeaders: string[];
  /** media type, lower-case, parameters removed */
  contentType: string | null;
  charset?: string;
  location?: string;
  /** the body bytes read (a prefix on failure or truncation) */
  body: Buffer;
  truncated: boolean;
  failure?: FetchFailure;
  detail?: string;
  requestHeaders: Record<string, string>;
  startedAt: Date;
}

export function fetchPage(url: URL, o: FetchOptions): Promise<FetchResult> {
  return new Promise((resolve) => {
    const requestHeaders = {
      'User-Agent': o.userAgent,
      Accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.5',
      'Accept-Encoding': 'identity',
    };
    const r: FetchResult = {
      url,
      status: null,
      statusText: '',
      httpVersion: '1.1',
      rawHeaders: [],
      contentType: null,
      body: Buffer.alloc(0),
      truncated: false,
      requestHeaders,
      startedAt: new Date(),
    };
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const done = (failure?: FetchFailure, detail?: string, destroy = failure !== undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(totalTimer);
      o.signal?.removeEventListener('abort', onAbort);
      if (destroy) req.destroy();
      r.body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      if (failure) {
        r.failure = failure;
        r.detail = detail;
      }
      resolve(r);
    };
    const onAbort = () => done('aborted', 'crawl stopped');
    const lib = url.protocol === 'https:' ? https : http;
    const req = lib.request(url, {
      method: 'GET',
      headers: requestHeaders,
      agent: o.agent,
      lookup: pinnedLookup(o.addresses),
    });
    const connectTimer = setTimeout(
      () => done('timeout', `no connection to ${url.host} within ${o.connectTimeoutMs} ms`),
      o.connectTimeoutMs,
    );
    const totalTimer = setTimeout(
      () => done('timeout', `response not complete within ${o.timeoutMs} ms (${size} body bytes read)`),
      o.timeoutMs,
    );
    if (o.signal?.aborted) {
      onAbort();
      return;
    }
    o.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('socket', (s) => {
      if (s.connecting) s.once('connect', () => clearTimeout(connectTimer));
      else clearTimeout(connectTimer);
    });
    req.on('error', (e) => done(r.status === null ? 'connection error' : 'incomplete response', e.message));
    req.on('response', (res) => {
      clearTimeout(connectTimer);
      r.status = res.statusCode ?? null;
      r.statusText = res.statusMessage ?? '';
      r.httpVersion = res.httpVersion;
      r.rawHeaders = res.rawHeaders;
      const [type, ...params] = (res.headers['content-type'] ?? '').split(';');
      r.contentType = type?.trim().toLowerCase() || null;
      r.charset = params.map((p) => /^\s*charset\s*=\s*"?([^";\s]+)/i.exec(p)?.[1]).find((c) => c !== undefined);
      if (typeof res.headers.location === 'string') r.location = res.headers.location;
      const declared = Number(res.headers['content-length'] ?? NaN);
      res.on('error', (e) => done('incomplete response', e.message));
      res.on('close', () => {
        if (!res.complete)
          done(
            'incomplete response',
            `connection closed after ${size} body bytes${Number.isFinite(declared) ? ` of ${declared}` : ''}`,
          );
      });
      const ok = r.status !== null && r.status >= 200 && r.status < 300;
      if (ok && o.contentTypes.length > 0 && !o.contentTypes.includes(r.contentType ?? '')) {
        done('content-type', `${r.contentType ?? 'no Content-Type'} is not one of ${o.contentTypes.join(', ')}`);
        return;
      }
      if (!o.truncate && declared > o.maxBodyBytes) {
        done('too large', `Content-Length ${declared} exceeds maxBodyBytes ${o.maxBodyBytes}`);
        return;
      }
      res.on('data', (c: Buffer) => {
        if (settled) return;
        const over = size + c.length > o.maxBodyBytes;
        if (over && !o.truncate) {
          done('too large', `body exceeds maxBodyBytes ${o.maxBodyBytes}; stopped reading`);
          return;
        }
        const chunk = over ? c.subarray(0, o.maxBodyBytes - size) : c;
        if (o.take && !o.take(chunk.length)) {
          done('byte limit', `crawl byte limit reached after ${size} body bytes of this response`);
          return;
        }
        chunks.push(chunk);
        size += chunk.length;
        if (over) {
          r.truncated = true;
          done(undefined, undefined, true);
        }
      });
      res.on('end', () => done());
    });
    req.end();
  });
}

/** Body bytes as text: charset from the header, else a <meta> in the first 1024 bytes, else UTF-8. */
export function decodeBody(body: Uint8Array, charset: string | undefined): string {
  let label = charset;
  if (!label) {
    const head = Buffer.from(body.buffer, body.byteOffset, Math.min(body.byteLength, 1024)).toString('latin1');
    label = /<meta[^>]+charset\s*=\s*["']?([\w-]+)/i.exec(head)?.[1];
  }
  try {
    return new TextDecoder(label ?? 'utf-8').decode(body);
  } catch {
    return new TextDecoder('utf-8').decode(body);
  }
}
