#!/usr/bin/env node
// Plays the Learner Credential Wallet (LCW) against the service: it builds and
// signs DIDAuth presentations with the same npm packages LCW ships
// (@digitalcredentials/vc, ed25519-signature-2020, did-method-key), walks the
// VC API exchange as LCW's ExchangeCredentials screen does, and checks the
// credential it receives with DCC's verifier-core, which is what LCW runs to
// show a credential as verified. See README.md for the output format.
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import * as vc from '@digitalcredentials/vc';
import * as DidMethodKey from '@digitalcredentials/did-method-key';
import { Ed25519Signature2020 } from '@digitalcredentials/ed25519-signature-2020';
import { Ed25519VerificationKey2020 } from '@digitalcredentials/ed25519-verification-key-2020';
import { DataIntegrityProof } from '@digitalcredentials/data-integrity';
import { cryptosuite as eddsaRdfc2022 } from '@digitalcredentials/eddsa-rdfc-2022-cryptosuite';
import { checkStatus } from '@digitalcredentials/vc-bitstring-status-list';
import { securityLoader } from '@digitalcredentials/security-document-loader';
import * as verifierCore from '@digitalcredentials/verifier-core';

const USAGE = `usage:
  lcw.mjs receive   --base URL --token T --credential ID
  lcw.mjs receive-request --base URL --token T --credential ID
  lcw.mjs check     --base URL credential.json
  lcw.mjs refusals  --base URL --token T --credential ID
  lcw.mjs sign-vp   --challenge C --domain D [--seed HEX32] [--holder-seed HEX32] [--created ISO]
  lcw.mjs verify-vp --challenge C --domain D vp.json
  lcw.mjs --help

receive    runs one exchange as LCW does (interaction URL, POST {}, DIDAuth VP)
           with a fresh did:key, then verifies the credential with verifier-core.
           Prints one JSON line; exit 0 if received, signature valid, not revoked.
receive-request  the same through the exchange's credential-request link (LCW's
           older flow: the bare VP, signed over the link's challenge with no
           domain, posted to vc_request_url), as LCW's credentialRequest does.
check      verifier-core check of a credential file. Exit 0 valid and not
           revoked, 3 valid but revoked, 1 otherwise.
refusals   one JSON line per refusal case; exit 0 if every case got a 4xx
           application/problem+json answer.
sign-vp    prints a DIDAuth VP signed as LCW signs it. --seed fixes the signing
           key, --holder-seed puts another did:key in "holder", --created fixes
           proof.created (so the output is byte-for-byte reproducible).
verify-vp  verifies a VP with @digitalcredentials/vc (Ed25519Signature2020,
           authentication purpose, the given challenge and domain); exit 0 if valid.

Contexts never come from the network: the ones bundled by
@digitalcredentials/security-document-loader are used. During verification the
only host reached is the --base service (did:web's https URL is fetched over
http there); any other URL is refused and listed in verify.raw.blocked.`;

// LCW's own deep link prefixes (app.config.js LinkConfig.schemes).
const LCW_LINK_PREFIXES = [
  'dccrequest://', 'org.dcconsortium://', 'https://lcw.app/request',
  'interaction:', 'https://lcw.app/mobile'
];
// verifier-core guesses this JSON schema for an OB 3.0.3 OpenBadgeCredential
// (VC 2.0) and fetches it; the repo keeps a copy, served from here offline.
const OB_SCHEMA_URL = 'https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json';
const OB_SCHEMA_FILE = new URL('../schemas/ob3/achievementcredential.json', import.meta.url);
const ONE_MIB = 1024 * 1024;

// Library code logs to stdout (verifier-core's schema check, the registry
// client); stdout carries only our JSON lines.
console.log = console.info = console.warn = (...args) => console.error(...args);

const realFetch = globalThis.fetch;
// LCW's signing loader is securityLoader({fetchRemoteContexts: true}); every
// context a DIDAuth VP needs is bundled, so without remote fetching the
// result is the same and nothing leaves the machine.
const contextLoader = securityLoader().build();

// ---------- wallet (LCW app/lib/did.ts mintDid, app/lib/composeVp.ts) ----------

function didKeyDriver() {
  const driver = DidMethodKey.driver();
  // As LCW: did:key documents carry Ed25519VerificationKey2020 keys.
  driver.use({ multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519VerificationKey2020.from });
  return driver;
}

async function mintWallet(seed) {
  const key = await Ed25519VerificationKey2020.generate(seed ? { seed } : {});
  const { didDocument } = await didKeyDriver().fromKeyPair({ verificationKeyPair: key });
  key.controller = didDocument.id;
  key.id = `${didDocument.id}#${key.fingerprint()}`;
  return { did: didDocument.id, key };
}

// composeVp with didAuthRequested: an empty VP (VC 2.0 context, holder) signed
// with Ed25519Signature2020 for proofPurpose "authentication". `holder` may
// differ from the signing wallet to build a wrong-key presentation.
async function composeDidAuthVp({ wallet, holder = wallet.did, challenge, domain, created }) {
  if (!(challenge && domain)) {
    // LCW refuses to answer a DIDAuth request without both.
    throw new Error('Both "challenge" and "domain" are required for DID Auth.');
  }
  const presentation = vc.createPresentation({ holder, verify: false });
  return vc.signPresentation({
    presentation,
    challenge,
    domain,
    documentLoader: contextLoader,
    suite: new Ed25519Signature2020({ signer: wallet.key.signer(), ...(created && { date: created }) })
  });
}

// LCW's credential-request flow (app/lib/credentialRequest.ts): the VP of
// createVerifiablePresentation, signed over the link's challenge alone.
async function composeRequestVp({ wallet, challenge }) {
  const presentation = vc.createPresentation({ holder: wallet.did, verify: false });
  return vc.signPresentation({
    presentation,
    challenge,
    documentLoader: contextLoader,
    suite: new Ed25519Signature2020({ signer: wallet.key.signer() })
  });
}

async function verifyVp(presentation, { challenge, domain }) {
  const driver = didKeyDriver();
  // securityLoader resolves did:key to Multikey, which Ed25519Signature2020 6.x
  // refuses; resolve did:key the way LCW mints it.
  const documentLoader = async url => url.startsWith('did:key:')
    ? { contextUrl: null, documentUrl: url, document: await driver.get({ url }) }
    : contextLoader(url);
  const result = await vc.verify({
    presentation, challenge, domain, documentLoader, suite: new Ed25519Signature2020()
  });
  return {
    verified: result.verified,
    errors: errorMessages(result.error)
  };
}

// An error's message and those of its causes, outermost first.
function errorMessages(error) {
  if (!error) return [];
  return (error.errors ?? [error]).flatMap(e => {
    const chain = [];
    for (let c = e; c && chain.length < 5; c = c.cause) chain.push(c.message ?? String(c));
    return chain.join(' <- ');
  });
}

// ---------- deep link, as LCW's deepLinkConfig.subscribe dispatches it ----------

function lcwDeepLinkTarget(link) {
  if (typeof link !== 'string' || !LCW_LINK_PREFIXES.some(p => link.startsWith(p))) {
    return { accepted: false, reason: 'not one of the link prefixes LCW handles' };
  }
  const params = new URLSearchParams(link.split('?')[1] ?? '');
  if (params.has('vc_request_url') && params.has('issuer')) {
    return { accepted: true, kind: 'legacy_credential_request', target: params.get('vc_request_url') };
  }
  if (link.startsWith('interaction:')) {
    const inner = link.slice('interaction:'.length);
    return { accepted: true, kind: 'interaction_url', target: /^https?%3A/.test(inner) ? decodeURIComponent(inner) : inner };
  }
  if (URL.canParse(link) && new URL(link).searchParams.has('iuv')) {
    return { accepted: true, kind: 'interaction_url', target: link };
  }
  if (!params.has('request')) {
    return { accepted: false, reason: 'no "request" query parameter' };
  }
  let message;
  try {
    // LCW's parseWalletApiUrl decodes the parameter, then runs decodeURI on it.
    message = JSON.parse(decodeURI(params.get('request')));
  } catch (e) {
    return { accepted: false, reason: `"request" is not JSON after LCW's decoding: ${e.message}` };
  }
  if (message?.protocols) {
    return message.protocols.vcapi
      ? { accepted: true, kind: 'exchange_invitation', target: message.protocols.vcapi }
      : { accepted: false, reason: 'protocols has no "vcapi" (the only protocol LCW runs)' };
  }
  if (message?.verifiablePresentationRequest) {
    return { accepted: true, kind: 'presentation_request', target: null };
  }
  return { accepted: false, reason: 'message is neither an invitation nor a request' };
}

// ---------- HTTP ----------

async function http(method, url, { body, token, accept = 'application/json' } = {}) {
  const headers = { accept };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await realFetch(url, {
    method,
    headers,
    body: body === undefined || typeof body === 'string' ? body : JSON.stringify(body)
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON: callers look at status and text */ }
  return { status: res.status, contentType: res.headers.get('content-type'), json, text };
}

function expectStatus(res, status, what) {
  if (res.status !== status) {
    throw new Error(`${what}: HTTP ${res.status} (expected ${status}): ${res.text.slice(0, 500)}`);
  }
  return res.json;
}

// The admin API creates the exchange; then LCW's two first steps: the
// interaction URL (GET, Accept JSON) gives protocols.vcapi, and POST {} to it
// gives the presentation request.
async function openExchange({ base, token, credential }) {
  const created = expectStatus(
    await http('POST', `${base}/api/v1/credentials/${encodeURIComponent(credential)}/exchanges`, { token, body: {} }),
    201, 'create exchange');
  const protocols = expectStatus(await http('GET', created.interaction_url), 200, 'interaction URL');
  const exchangeUrl = protocols?.protocols?.vcapi;
  if (typeof exchangeUrl !== 'string') {
    throw new Error(`interaction URL answer has no protocols.vcapi: ${JSON.stringify(protocols)}`);
  }
  return { created, exchangeUrl };
}

async function requestChallenge(exchangeUrl) {
  const res = await http('POST', exchangeUrl, { body: {} });
  const vpr = res.json?.verifiablePresentationRequest;
  if (res.status !== 200 || !vpr) return { res, vpr: null };
  const queries = [].concat(vpr.query ?? []);
  if (queries.filter(q => q?.type === 'DIDAuthentication').length !== 1) {
    throw new Error(`request must hold exactly one DIDAuthentication query: ${res.text}`);
  }
  return { res, vpr };
}

// LCW's sendToExchanger body.
const present = (exchangeUrl, verifiablePresentation) =>
  http('POST', exchangeUrl, { body: { verifiablePresentation } });

// LCW's extractCredentialsFrom applied to the exchange answer.
function credentialsFromAnswer(answer) {
  const vp = answer?.verifiablePresentation;
  if (!vp?.type?.includes('VerifiablePresentation') || !vp.verifiableCredential) return [];
  return [].concat(vp.verifiableCredential);
}

// ---------- verifier-core, offline but for the service ----------

// verifier-core builds its own document loader (fetchRemoteContexts: true)
// and has no option to replace it, so network access is steered at fetch:
// did:web always means https://HOST/.well-known/did.json, which the test
// service answers over plain http on loopback; the OB schema comes from the
// repo; everything else is refused and recorded.
function installOfflineFetch(base) {
  const service = new URL(base);
  const seen = { fetched: [], blocked: [] };
  globalThis.fetch = async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.href === OB_SCHEMA_URL && existsSync(OB_SCHEMA_FILE)) {
      seen.fetched.push({ url: url.href, status: 200, from: 'tests/schemas/ob3' });
      return Response.json(JSON.parse(readFileSync(OB_SCHEMA_FILE, 'utf8')));
    }
    if (url.protocol === 'https:' && url.host === service.host) url.protocol = service.protocol;
    if (url.origin !== service.origin) {
      seen.blocked.push(url.href);
      throw new TypeError(`offline: refused to fetch ${url.href}`);
    }
    const res = await realFetch(new Request(url, request));
    seen.fetched.push({ url: request.url, status: res.status });
    return res;
  };
  return seen;
}

async function checkCredential(credential, seen) {
  const issuer = typeof credential?.issuer === 'object' ? credential.issuer?.id : credential?.issuer;
  // No trusted-issuer registries: LCW downloads DCC's list; the service is in
  // none, and the look-up would need the network. registered_issuer stays false.
  const result = await verifierCore.verifyCredential({ credential, knownDIDRegistries: [] });
  const log = result.log ?? [];
  const step = id => log.find(s => s.id === id);
  const fatal = (result.errors ?? []).map(e => ({
    name: e.name, message: e.message, ...(e.stackTrace?.message && { cause: e.stackTrace.message })
  }));
  const signature = fatal.length === 0 && step('valid_signature')?.valid === true;
  const status = step('revocation_status');
  const revoked = status && typeof status.valid === 'boolean' ? !status.valid : null;

  const errors = fatal.map(e => `${e.name}: ${e.message}${e.cause ? ` (${e.cause})` : ''}`);
  for (const s of log) {
    if (s.error) errors.push(`${s.id}: ${s.error.name ?? ''} ${s.error.message ?? ''}`.trim());
    else if (s.valid === false && s.id !== 'registered_issuer' && s.id !== 'revocation_status') errors.push(`${s.id}: not valid`);
  }
  if (credential?.credentialStatus && !status) errors.push('revocation_status: not checked');

  const schema = result.additionalInformation?.find(a => a.id === 'schema_check')?.results;
  const raw = {
    log: log.map(({ id, valid, error }) => ({ id, valid, ...(error && { error }) })),
    errors: fatal,
    schema: Array.isArray(schema)
      ? schema.map(s => ({ schema: s.schema, valid: s.result?.valid, errors: s.result?.errors?.slice(0, 10) }))
      : schema ?? null,
    fetched: seen.fetched,
    blocked: seen.blocked
  };
  if (!signature || status?.error) raw.diagnosis = await diagnose(credential, { signature, status: !!status?.error });

  return {
    signature,
    issuer_resolved: await resolves(issuer),
    revoked,
    errors,
    raw
  };
}

async function resolves(did) {
  if (typeof did !== 'string' || !did.startsWith('did:')) return false;
  try {
    const { document } = await contextLoader(did);
    return document?.id === did;
  } catch {
    return false;
  }
}

// verifier-core reduces most failures to a fixed message ("The signature is
// not valid.", "The status list couldn't be verified."). Rerunning the same
// libraries with verifier-core's suites and loader settings gives the
// underlying reason (key not found, purpose, context, status list shape...).
async function diagnose(credential, { signature, status }) {
  const suite = [new Ed25519Signature2020(), new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 })];
  const documentLoader = securityLoader({ fetchRemoteContexts: true }).build();
  const diagnosis = {};
  if (!signature) {
    const result = await vc.verifyCredential({
      credential, suite, documentLoader, checkStatus: async () => ({ verified: true }), verifyMatchingIssuers: false
    });
    diagnosis.signature = errorMessages(result.error);
  }
  if (status) {
    const result = await checkStatus({ credential, suite, documentLoader, verifyMatchingIssuers: false });
    diagnosis.status = errorMessages(result.error);
  }
  return diagnosis;
}

// ---------- subcommands ----------

function out(value) {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

function need(values, ...names) {
  for (const name of names) {
    if (!values[name]) throw new UsageError(`--${name} is required`);
  }
}

class UsageError extends Error {}

async function receive({ base, token, credential }) {
  const wallet = await mintWallet();
  let received;
  try {
    const { created, exchangeUrl } = await openExchange({ base, token, credential });
    const { res, vpr } = await requestChallenge(exchangeUrl);
    if (!vpr) throw new Error(`POST {} gave no verifiablePresentationRequest: HTTP ${res.status} ${res.text.slice(0, 500)}`);
    const vp = await composeDidAuthVp({ wallet, challenge: vpr.challenge, domain: vpr.domain });
    const answer = expectStatus(await present(exchangeUrl, vp), 200, 'present DIDAuth VP');
    const [vcReceived] = credentialsFromAnswer(answer);
    if (!vcReceived) throw new Error(`answer holds no credential LCW would store: ${JSON.stringify(answer).slice(0, 500)}`);
    const link = lcwDeepLinkTarget(created.deep_link);
    received = {
      credential: vcReceived,
      deep_link: { ...link, ...(link.target && { matches_exchange: [exchangeUrl, created.interaction_url].includes(link.target) }) }
    };
  } catch (e) {
    out({ received: false, holder: wallet.did, error: errorMessages(e).join('; ') });
    return 1;
  }
  const verify = await checkCredential(received.credential, installOfflineFetch(base));
  const subjectMatchesHolder = [].concat(received.credential.credentialSubject ?? [])
    .some(s => s?.id === wallet.did);
  out({
    received: true,
    credential: received.credential,
    holder: wallet.did,
    subject_matches_holder: subjectMatchesHolder,
    deep_link: received.deep_link,
    verify
  });
  // An undetermined status is in verify.errors, so it fails too.
  return verify.signature && verify.errors.length === 0 && verify.revoked !== true ? 0 : 1;
}

async function receiveRequest({ base, token, credential }) {
  const wallet = await mintWallet();
  let received;
  try {
    const created = expectStatus(
      await http('POST', `${base}/api/v1/credentials/${encodeURIComponent(credential)}/exchanges`, { token, body: {} }),
      201, 'create exchange');
    const link = lcwDeepLinkTarget(created.credential_request_link);
    if (link.kind !== 'legacy_credential_request') {
      throw new Error(`credential_request_link is not one LCW runs as a credential request: ${JSON.stringify(link)}`);
    }
    const params = new URLSearchParams(created.credential_request_link.split('?')[1]);
    if (params.get('auth_type') !== 'bearer') throw new Error('auth_type is not "bearer", the only one LCW supports');
    const vp = await composeRequestVp({ wallet, challenge: params.get('challenge') });
    const answer = expectStatus(await http('POST', link.target, { body: vp }), 200, 'credential request');
    // LCW takes a bare VC, or a bare VP with verifiableCredential.
    const [vcReceived] = answer?.type?.includes('VerifiablePresentation')
      ? [].concat(answer.verifiableCredential ?? [])
      : answer?.type?.includes('VerifiableCredential') ? [answer] : [];
    if (!vcReceived) throw new Error(`answer holds no credential LCW would store: ${JSON.stringify(answer).slice(0, 500)}`);
    received = { credential: vcReceived, link };
  } catch (e) {
    out({ received: false, holder: wallet.did, error: errorMessages(e).join('; ') });
    return 1;
  }
  const verify = await checkCredential(received.credential, installOfflineFetch(base));
  out({
    received: true,
    credential: received.credential,
    holder: wallet.did,
    subject_matches_holder: [].concat(received.credential.credentialSubject ?? []).some(s => s?.id === wallet.did),
    link: received.link,
    verify
  });
  return verify.signature && verify.errors.length === 0 && verify.revoked !== true ? 0 : 1;
}

async function check({ base }, file) {
  const credential = JSON.parse(readFileSync(file, 'utf8'));
  const verify = await checkCredential(credential, installOfflineFetch(base));
  out({ file, verify });
  if (!verify.signature || verify.errors.length > 0) return 1;
  return verify.revoked ? 3 : 0;
}

// Each case opens its own exchange; a case passes when the service refuses
// with a 4xx application/problem+json answer.
async function refusals(ctx) {
  const refusal = (name, res, extra = {}) => {
    const ok = res.status >= 400 && res.status < 500 &&
      /^application\/problem\+json\b/.test(res.contentType ?? '');
    return { case: name, status: res.status, content_type: res.contentType, detail: res.json?.detail ?? null, ok, ...extra };
  };
  const started = async () => {
    const { exchangeUrl } = await openExchange(ctx);
    const { res, vpr } = await requestChallenge(exchangeUrl);
    if (!vpr) throw new Error(`POST {} gave no verifiablePresentationRequest: HTTP ${res.status}`);
    return { exchangeUrl, ...vpr };
  };
  const completed = async wallet => {
    const ex = await started();
    const vp = await composeDidAuthVp({ wallet, challenge: ex.challenge, domain: ex.domain });
    expectStatus(await present(ex.exchangeUrl, vp), 200, 'completing a good exchange');
    return { ...ex, vp };
  };

  const cases = {
    async replay() {
      const ex = await completed(await mintWallet());
      return refusal('replay', await present(ex.exchangeUrl, ex.vp));
    },
    async wrong_key() {
      const [a, b] = [await mintWallet(), await mintWallet()];
      const ex = await started();
      const vp = await composeDidAuthVp({ wallet: b, holder: a.did, challenge: ex.challenge, domain: ex.domain });
      return refusal('wrong_key', await present(ex.exchangeUrl, vp));
    },
    async wrong_domain() {
      const ex = await started();
      const vp = await composeDidAuthVp({ wallet: await mintWallet(), challenge: ex.challenge, domain: 'evil.example' });
      return refusal('wrong_domain', await present(ex.exchangeUrl, vp));
    },
    async second_holder() {
      const ex = await completed(await mintWallet());
      const again = await requestChallenge(ex.exchangeUrl);
      if (!again.vpr) return refusal('second_holder', again.res, { refused_at: 'challenge' });
      const vp = await composeDidAuthVp({ wallet: await mintWallet(), challenge: again.vpr.challenge, domain: again.vpr.domain });
      return refusal('second_holder', await present(ex.exchangeUrl, vp), { refused_at: 'presentation' });
    },
    async malformed_not_object() {
      const ex = await started();
      return refusal('malformed_not_object', await http('POST', ex.exchangeUrl, { body: { verifiablePresentation: 'not an object' } }));
    },
    async malformed_holder_number() {
      const ex = await started();
      return refusal('malformed_holder_number', await http('POST', ex.exchangeUrl, { body: { verifiablePresentation: { holder: 5 } } }));
    },
    async oversized() {
      const ex = await started();
      const vp = await composeDidAuthVp({ wallet: await mintWallet(), challenge: ex.challenge, domain: ex.domain });
      const body = JSON.stringify({ verifiablePresentation: { ...vp, padding: 'x'.repeat(ONE_MIB + 1) } });
      try {
        return refusal('oversized', await http('POST', ex.exchangeUrl, { body }), { bytes: body.length });
      } catch (e) {
        // A server that answers before reading the body may reset the upload.
        return { case: 'oversized', status: null, content_type: null, detail: errorMessages(e).join('; '), ok: false, bytes: body.length };
      }
    },
    async wrong_challenge() {
      const ex = await started();
      const vp = await composeDidAuthVp({ wallet: await mintWallet(), challenge: `${ex.challenge}-other`, domain: ex.domain });
      return refusal('wrong_challenge', await present(ex.exchangeUrl, vp));
    }
  };

  let allOk = true;
  for (const [name, run] of Object.entries(cases)) {
    let line;
    try {
      line = await run();
    } catch (e) {
      line = { case: name, status: null, content_type: null, detail: `setup failed: ${errorMessages(e).join('; ')}`, ok: false };
    }
    allOk &&= line.ok;
    out(line);
  }
  return allOk ? 0 : 1;
}

function seedFrom(hex, name) {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new UsageError(`--${name} must be 32 bytes of hex`);
  return Uint8Array.from(hex.match(/../g), b => parseInt(b, 16));
}

async function signVp({ challenge, domain, seed, 'holder-seed': holderSeed, created }) {
  const wallet = await mintWallet(seed && seedFrom(seed, 'seed'));
  const holder = holderSeed ? (await mintWallet(seedFrom(holderSeed, 'holder-seed'))).did : wallet.did;
  const vp = await composeDidAuthVp({ wallet, holder, challenge, domain, created });
  process.stdout.write(`${JSON.stringify(vp, null, 2)}\n`);
  return 0;
}

async function verifyVpFile({ challenge, domain }, file) {
  const result = await verifyVp(JSON.parse(readFileSync(file, 'utf8')), { challenge, domain });
  out({ file, ...result });
  return result.verified ? 0 : 1;
}

async function main(argv) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: 'boolean' },
      base: { type: 'string' },
      token: { type: 'string' },
      credential: { type: 'string' },
      challenge: { type: 'string' },
      domain: { type: 'string' },
      seed: { type: 'string' },
      'holder-seed': { type: 'string' },
      created: { type: 'string' }
    }
  });
  const [command, ...files] = positionals;
  if (values.help || !command) {
    (values.help ? process.stdout : process.stderr).write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  if (values.base) values.base = values.base.replace(/\/+$/, '');
  switch (command) {
    case 'receive':
      need(values, 'base', 'token', 'credential');
      return receive(values);
    case 'receive-request':
      need(values, 'base', 'token', 'credential');
      return receiveRequest(values);
    case 'check':
      need(values, 'base');
      if (files.length !== 1) throw new UsageError('check takes one credential file');
      return check(values, files[0]);
    case 'refusals':
      need(values, 'base', 'token', 'credential');
      return refusals(values);
    case 'sign-vp':
      need(values, 'challenge', 'domain');
      return signVp(values);
    case 'verify-vp':
      need(values, 'challenge', 'domain');
      if (files.length !== 1) throw new UsageError('verify-vp takes one presentation file');
      return verifyVpFile(values, files[0]);
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  if (!(e instanceof UsageError) && e.code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw e;
  process.stderr.write(`${e.message}\n\n${USAGE}\n`);
  process.exitCode = 2;
}
