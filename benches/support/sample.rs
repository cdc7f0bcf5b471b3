//! The credential the benchmarks sign and verify: a Partnership Closed as the service issues
//! it (hashed email, the closing record and the mentor CC as evidence, a status entry).
//! Shared by `benches/credential.rs` and `examples/bench_vectors.rs`, which writes it out for
//! the Digital Bazaar benches (`scripts/bench-vs-peers.sh`), so both sides sign one document.

use partnership_badges::credential::model::{
    Achievement, AchievementSubject, Criteria, Evidence, IdentityObject, OpenBadgeCredential,
    Profile, StatusEntry, OB_V3_CONTEXT, VC_V2_CONTEXT,
};

/// The service's public address in the sample.
pub const BASE: &str = "https://badges.example.org";

/// The sample with credential number `n` (its id and status position), issued by `issuer`.
pub fn credential(n: u64, issuer: &str) -> OpenBadgeCredential {
    OpenBadgeCredential {
        context: vec![VC_V2_CONTEXT.into(), OB_V3_CONTEXT.into()],
        id: format!("{BASE}/credentials/6f1c2d8e-0b7a-4e15-9d3c-{n:012x}"),
        types: vec!["VerifiableCredential".into(), "OpenBadgeCredential".into()],
        name: "Partnership Closed".into(),
        description: "Awarded for closing a real partnership with a local organisation, with \
                      the mentor CC'd on the communications."
            .into(),
        issuer: Profile {
            id: issuer.to_owned(),
            types: vec!["Profile".into()],
            name: "Partnership Training Program".into(),
            url: Some(BASE.into()),
            email: Some("badges@example.org".into()),
        },
        valid_from: "2025-06-01T12:00:00Z".into(),
        valid_until: None,
        credential_subject: AchievementSubject {
            id: None,
            types: vec!["AchievementSubject".into()],
            identifier: vec![IdentityObject {
                kind: "IdentityObject".into(),
                identity_hash:
                    "sha256$8a1f2c4e9b7d6a5c3e1f0b9a8d7c6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d".into(),
                identity_type: "emailAddress".into(),
                hashed: true,
                salt: "3f9a1c7e5b2d4f60".into(),
            }],
            achievement: Achievement {
                id: format!("{BASE}/achievements/partnership-closed"),
                types: vec!["Achievement".into()],
                achievement_type: "Badge".into(),
                name: "Partnership Closed".into(),
                description: "Closed one partnership through all five stages.".into(),
                criteria: Criteria {
                    id: None,
                    narrative: "Take a partnership through Lead, Conversation, Shaping, Work \
                                and Transition, and close it with your mentor CC'd."
                        .into(),
                },
            },
        },
        evidence: vec![
            Evidence {
                id: Some(format!("{BASE}/closings/41")),
                types: vec!["Evidence".into()],
                name: Some("Partnership with Riverside Library".into()),
                description: Some("Closed 2025-05-28; outcome: weekly maker club.".into()),
                narrative: Some(
                    "Lead 2025-02-03, Conversation 2025-02-20, Shaping 2025-03-15, Work \
                     2025-04-01, Transition 2025-05-28."
                        .into(),
                ),
                genre: Some("Closing record".into()),
                audience: None,
            },
            Evidence {
                id: None,
                types: vec!["Evidence".into()],
                name: Some("Mentor CC'd: Dana Mentor".into()),
                description: None,
                narrative: Some("Mentor CC'd on the closing communications on 2025-05-28.".into()),
                genre: Some("Mentor CC".into()),
                audience: None,
            },
        ],
        credential_status: Some(StatusEntry {
            id: format!("{BASE}/status/1#{n}"),
            kind: "BitstringStatusListEntry".into(),
            status_purpose: "revocation".into(),
            status_list_index: n.to_string(),
            status_list_credential: format!("{BASE}/status/1"),
        }),
        proof: Vec::new(),
    }
}
