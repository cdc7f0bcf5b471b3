-- Wallet delivery (issue 13), PostgreSQL. Mirrors migrations/sqlite with the same version
-- and name.
--
-- VC-API exchanges that hand a holder's wallet a copy of one credential,
-- bound to the wallet's DID. The exchange's URL carries a random token; only its SHA-256
-- is here. The copy is written with the exchange's completion, in the same row, so a
-- completed exchange always has its copy and a copy always its exchange.
create table exchanges (
    id             uuid primary key,
    token_hash     text not null unique,
    credential_id  uuid not null references credentials(id),
    opened_by      text not null,   -- 'holder' (their page) or 'token:{id}' (the API)
    created_at     timestamptz not null,
    expires_at     timestamptz not null,
    challenge      text,            -- the DIDAuth challenge handed out last, single-use
    holder_did     text,            -- the wallet's DID, once it has presented
    completed_at   timestamptz,
    copy_id        uuid unique,     -- the copy's id (urn:uuid:{copy_id})
    copy_document  text             -- the signed copy, byte for byte as delivered
);
create index exchanges_credential on exchanges(credential_id);
