//! The Open Badges 3.0 credential exactly as this service issues it, as typed Rust values.
//!
//! Field order follows serialisation order, so a stored credential reads naturally. Only
//! terms defined by the VC 2.0 and OB 3.0.3 contexts appear here: the fast RDF path in
//! [`super::quads`] maps each field to its IRI, and a differential test holds it to the general
//! JSON-LD path.

use serde::{Deserialize, Serialize};

/// The VC Data Model 2.0 context.
pub const VC_V2_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
/// The Open Badges 3.0.3 context.
pub const OB_V3_CONTEXT: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";

/// An `OpenBadgeCredential`, with or without its proof.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenBadgeCredential {
    /// Always `[VC_V2_CONTEXT, OB_V3_CONTEXT]`.
    #[serde(rename = "@context")]
    pub context: Vec<String>,
    /// The hosted URL of the credential.
    pub id: String,
    /// `["VerifiableCredential", "OpenBadgeCredential"]`.
    #[serde(rename = "type")]
    pub types: Vec<String>,
    /// Display name (the achievement's name).
    pub name: String,
    /// Short description of what was awarded.
    pub description: String,
    /// The issuer, embedded.
    pub issuer: Profile,
    /// Issue time, RFC 3339 UTC with seconds (`xsd:dateTime`).
    #[serde(rename = "validFrom")]
    pub valid_from: String,
    /// Optional expiry, same format.
    #[serde(
        rename = "validUntil",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub valid_until: Option<String>,
    /// The recipient and the achievement.
    #[serde(rename = "credentialSubject")]
    pub credential_subject: AchievementSubject,
    /// Evidence entries: closing records and mentor CCs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
    /// Revocation entry in a bitstring status list.
    #[serde(
        rename = "credentialStatus",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub credential_status: Option<StatusEntry>,
    /// The Data Integrity proof, once signed: a set of one, written as an array as the
    /// 1EdTech JSON Schema requires. Credentials issued before were written with a single
    /// object, which is read too.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "one_or_many"
    )]
    #[schema(value_type = Vec<DataIntegrityProof>)]
    pub proof: Vec<DataIntegrityProof>,
}

/// Reads a JSON-LD set given as one value or as an array.
fn one_or_many<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany<T> {
        Many(Vec<T>),
        One(T),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::Many(v) => v,
        OneOrMany::One(v) => vec![v],
    })
}

/// An issuer `Profile`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// `{base}/issuer`.
    pub id: String,
    /// `["Profile"]`.
    #[serde(rename = "type")]
    pub types: Vec<String>,
    /// Organisation name.
    pub name: String,
    /// Organisation web site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Contact email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// The credential subject: a hashed email identifier and the achievement; in a copy bound to
/// a holder's wallet, also the holder's DID.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AchievementSubject {
    /// The holder's DID (copies delivered to a wallet only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `["AchievementSubject"]`.
    #[serde(rename = "type")]
    pub types: Vec<String>,
    /// Identity objects (one: the hashed email).
    pub identifier: Vec<IdentityObject>,
    /// The achievement awarded.
    pub achievement: Achievement,
}

/// A hashed recipient identifier.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityObject {
    /// `"IdentityObject"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `sha256$` + hex(sha256(normalised email + salt)).
    #[serde(rename = "identityHash")]
    pub identity_hash: String,
    /// `"emailAddress"`.
    #[serde(rename = "identityType")]
    pub identity_type: String,
    /// Always true here.
    pub hashed: bool,
    /// Per-credential salt.
    pub salt: String,
}

/// An `Achievement` (the badge class).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Achievement {
    /// `{base}/achievements/{slug}`.
    pub id: String,
    /// `["Achievement"]`.
    #[serde(rename = "type")]
    pub types: Vec<String>,
    /// An `AchievementType` enumeration value (`Badge`, `Certification`).
    #[serde(rename = "achievementType")]
    pub achievement_type: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// What must be done to earn it.
    pub criteria: Criteria,
}

/// Criteria of an achievement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Criteria {
    /// A page that describes the criteria.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The criteria in Markdown.
    pub narrative: String,
}

/// One evidence entry; only the standard OB 3.0 Evidence fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// The hosted page of the evidence (the closing record), if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `["Evidence"]`.
    #[serde(rename = "type")]
    pub types: Vec<String>,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Short description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Longer account, Markdown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub narrative: Option<String>,
    /// Kind of evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub genre: Option<String>,
    /// Who the evidence is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
}

/// A `BitstringStatusListEntry`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusEntry {
    /// `{list url}#{index}`.
    pub id: String,
    /// `"BitstringStatusListEntry"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `"revocation"`.
    #[serde(rename = "statusPurpose")]
    pub status_purpose: String,
    /// The bit index, as a decimal string.
    #[serde(rename = "statusListIndex")]
    pub status_list_index: String,
    /// URL of the status list credential.
    #[serde(rename = "statusListCredential")]
    pub status_list_credential: String,
}

/// A `DataIntegrityProof` (`eddsa-rdfc-2022`). Without `proof_value` it is the proof
/// configuration that gets canonicalised and hashed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DataIntegrityProof {
    /// `"DataIntegrityProof"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `"eddsa-rdfc-2022"`.
    pub cryptosuite: String,
    /// Signing time, RFC 3339 UTC.
    pub created: String,
    /// The Multikey URL, `{base}/issuer/keys/{kid}`.
    #[serde(rename = "verificationMethod")]
    pub verification_method: String,
    /// `"assertionMethod"`.
    #[serde(rename = "proofPurpose")]
    pub proof_purpose: String,
    /// `z` + base58btc(signature); absent in the proof configuration.
    #[serde(
        rename = "proofValue",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub proof_value: Option<String>,
}
