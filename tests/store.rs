//! The storage layer on SQLite and PostgreSQL: uniqueness held by constraints, status-list
//! positions never handed out twice, revocation recorded once.

mod common;

use std::sync::Arc;

use chrono::Duration;
use common::TestApp;
use partnership_badges::db::{
    AuditEntry, AuditFilter, Closing, Constraint, CredentialRecord, DbError, Mentor, Person,
    RevokeOutcome, Stages, Store, Write,
};
use partnership_badges::program::{now, CERTIFIED, CLOSED};
use uuid::Uuid;

async fn seed(store: &dyn Store) -> (Person, Closing) {
    let mentor = Mentor {
        id: Uuid::new_v4(),
        name: "M".into(),
        email: "m@example.org".into(),
        url: None,
        created_at: now(),
    };
    store.insert_mentor(&mentor).await.unwrap();
    let person = Person {
        id: Uuid::new_v4(),
        name: "P".into(),
        email: "p@example.org".into(),
        city: None,
        country: None,
        url: None,
        listed_in_registry: false,
        created_at: now(),
        consent: Default::default(),
        erased_at: None,
    };
    store.insert_person(&person).await.unwrap();
    let closing = Closing {
        id: Uuid::new_v4(),
        closer_id: person.id,
        mentor_id: mentor.id,
        mentor_cc_at: now(),
        mentor_cc_ref: None,
        partner_name: "Partner".into(),
        partner_url: None,
        partner_city: None,
        partner_country: None,
        stages: Stages::default(),
        closed_on: now().date_naive(),
        summary: "done".into(),
        created_at: now(),
        partner_fit: Some(serde_json::from_value(partner_fit_json()).unwrap()),
    };
    store.insert_closing(&closing).await.unwrap();
    assert_eq!(store.closing(closing.id).await.unwrap().unwrap(), closing);
    // The assessment, removed and set again.
    assert!(store.set_partner_fit(closing.id, None).await.unwrap());
    assert_eq!(
        store
            .closing(closing.id)
            .await
            .unwrap()
            .unwrap()
            .partner_fit,
        None
    );
    assert!(store
        .set_partner_fit(closing.id, closing.partner_fit.as_ref())
        .await
        .unwrap());
    assert_eq!(store.closing(closing.id).await.unwrap().unwrap(), closing);
    assert!(!store.set_partner_fit(Uuid::new_v4(), None).await.unwrap());
    assert_eq!(store.person(person.id).await.unwrap().unwrap(), person);
    assert_eq!(store.mentor(mentor.id).await.unwrap().unwrap(), mentor);
    (person, closing)
}

fn record(
    achievement: &str,
    person: &Person,
    closing: Option<&Closing>,
    index: i64,
) -> CredentialRecord {
    CredentialRecord {
        id: Uuid::new_v4(),
        achievement: achievement.into(),
        person_id: person.id,
        closing_id: closing.map(|c| c.id),
        status_list: 1,
        status_index: index,
        issued_at: now(),
        valid_until: None,
        document: "{}".into(),
        idempotency_key: None,
        request_hash: None,
        revoked_at: None,
        revocation_reason: None,
    }
}

async fn constraints(app: &TestApp) {
    let store = &*app.state.store;
    store.reserve_status_block(10, 1 << 17).await.unwrap();
    let (person, closing) = seed(store).await;

    let first = record(CLOSED, &person, Some(&closing), 1);
    store.insert_credential(&first).await.unwrap();
    assert_eq!(store.credential(first.id).await.unwrap().unwrap(), first);

    let dup = record(CLOSED, &person, Some(&closing), 2);
    assert!(matches!(
        store.insert_credential(&dup).await,
        Err(DbError::Conflict(Constraint::ClosedPerClosing))
    ));
    let same_bit = record(CERTIFIED, &person, None, 1);
    assert!(matches!(
        store.insert_credential(&same_bit).await,
        Err(DbError::Conflict(Constraint::StatusIndex))
    ));
    let mut keyed = record(CERTIFIED, &person, None, 3);
    keyed.idempotency_key = Some("k".into());
    store.insert_credential(&keyed).await.unwrap();
    let mut keyed2 = record(CLOSED, &person, None, 4);
    keyed2.idempotency_key = Some("k".into());
    assert!(matches!(
        store.insert_credential(&keyed2).await,
        Err(DbError::Conflict(Constraint::IdempotencyKey))
    ));
    let second_cert = record(CERTIFIED, &person, None, 5);
    assert!(matches!(
        store.insert_credential(&second_cert).await,
        Err(DbError::Conflict(Constraint::CertifiedPerPerson))
    ));

    // Revocation happens once; the list reports its bit.
    let at = now();
    match store
        .revoke_credential(first.id, "why", at, None)
        .await
        .unwrap()
    {
        RevokeOutcome::Revoked(r) => assert_eq!(r.revocation_reason.as_deref(), Some("why")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        store
            .revoke_credential(first.id, "again", at, None)
            .await
            .unwrap(),
        RevokeOutcome::AlreadyRevoked(_)
    ));
    assert_eq!(store.revoked_indices(1).await.unwrap(), Some(vec![1]));
    assert_eq!(store.revoked_indices(99).await.unwrap(), None);
    // A revoked Closed frees its closing.
    store.insert_credential(&dup).await.unwrap();

    // An expired Certified is retired when a new one is issued.
    app.exec(&format!(
        "update credentials set valid_until = {} where id = '{}'",
        match store.backend() {
            "sqlite" => format!("'{}'", (now() - Duration::days(1)).to_rfc3339()),
            _ => format!(
                "'{}'::timestamptz",
                (now() - Duration::days(1)).to_rfc3339()
            ),
        },
        keyed.id
    ))
    .await;
    let renewed = record(CERTIFIED, &person, None, 6);
    store.insert_credential(&renewed).await.unwrap();
    assert_eq!(
        store.credentials_of_person(person.id).await.unwrap().len(),
        4
    );
}
both_backends!(constraints_hold_in_the_database, crate::constraints);

async fn status_blocks(app: &TestApp) {
    let store: Arc<dyn Store> = app.state.store.clone();
    // Sixteen concurrent reservers, list size 100, blocks of 7: no overlap, lists roll over.
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let s = store.clone();
            tokio::spawn(async move { s.reserve_status_block(7, 100).await.unwrap() })
        })
        .collect();
    let mut seen = std::collections::HashSet::new();
    for t in tasks {
        let b = t.await.unwrap();
        assert!(b.start + b.len <= 100, "{b:?}");
        for c in b.start..b.start + b.len {
            assert!(
                seen.insert((b.list, c)),
                "position {c} of list {} reused",
                b.list
            );
        }
    }
    assert_eq!(seen.len(), 16 * 7);
    let lists: std::collections::HashSet<i64> = seen.iter().map(|(l, _)| *l).collect();
    assert!(lists.len() >= 2, "a full list must roll over to a new one");
}
both_backends!(status_positions_are_unique, crate::status_blocks);

/// One group-commit batch: a broken rule fails only its own credential; the rest of the
/// batch, audit entries included, is stored, in one transaction.
async fn batch_keeps_the_good_writes(app: &TestApp) {
    let store = &*app.state.store;
    store.reserve_status_block(10, 1 << 17).await.unwrap();
    let (person, closing) = seed(store).await;
    let first = record(CLOSED, &person, Some(&closing), 1);
    let twin = record(CLOSED, &person, Some(&closing), 2); // same closing: refused
    let certified = record(CERTIFIED, &person, None, 3);
    let second_certified = record(CERTIFIED, &person, None, 4); // one active: refused
    let entry = AuditEntry {
        at: now(),
        token_id: None,
        token_name: None,
        action: "POST /api/v1/credentials".into(),
        target: None,
        status: 201,
        request_id: Some("r-1".into()),
        staff_id: None,
        staff_email: None,
    };
    let staff_id = uuid::Uuid::new_v4();
    let writes = vec![
        Write::Credential(first.clone(), None),
        Write::Audit(entry.clone()),
        Write::Credential(twin.clone(), None),
        Write::Credential(certified.clone(), None),
        Write::Credential(second_certified.clone(), None),
        // A console action: the staff member, not a token.
        Write::Audit(AuditEntry {
            request_id: Some("r-2".into()),
            staff_id: Some(staff_id),
            staff_email: Some("ann@example.org".into()),
            ..entry.clone()
        }),
    ];
    let results = store.write_batch(&writes).await.unwrap();
    assert_eq!(results.len(), writes.len());
    assert!(results[0].is_ok() && results[1].is_ok() && results[3].is_ok() && results[5].is_ok());
    assert!(matches!(
        results[2],
        Err(DbError::Conflict(Constraint::ClosedPerClosing))
    ));
    assert!(matches!(
        results[4],
        Err(DbError::Conflict(Constraint::CertifiedPerPerson))
    ));
    for (stored, id) in [
        (true, first.id),
        (false, twin.id),
        (true, certified.id),
        (false, second_certified.id),
    ] {
        assert_eq!(store.credential(id).await.unwrap().is_some(), stored);
    }
    let log = store
        .list_audit(&AuditFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    let ids: Vec<_> = log
        .iter()
        .map(|r| r.entry.request_id.clone().unwrap())
        .collect();
    assert_eq!(ids, ["r-2", "r-1"], "both entries, newest first");
    assert_eq!(log[0].entry.staff_id, Some(staff_id));
    assert_eq!(log[1].entry, entry, "stored as written");
    let by_staff = store
        .list_audit(&AuditFilter {
            staff_email: Some("ann@example.org".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_staff.len(), 1);
    assert_eq!(
        by_staff[0].entry.staff_email.as_deref(),
        Some("ann@example.org")
    );
}

both_backends!(
    batch_keeps_the_good_writes,
    crate::batch_keeps_the_good_writes
);

/// The outbox: a message is stored only with its credential; a claim is a lease (a claimed
/// row is not due again until it ends, then it is); an outcome never undoes a `sent`.
async fn outbox(app: &TestApp) {
    use partnership_badges::db::{message_kind, MessageFilter, OutboxMessage, SendOutcome};
    let store = &*app.state.store;
    store.reserve_status_block(20, 1 << 17).await.unwrap();
    let (person, closing) = seed(store).await;
    let t0 = now();
    let first = record(CLOSED, &person, Some(&closing), 11);
    let twin = record(CLOSED, &person, Some(&closing), 12);
    let message = |c: &CredentialRecord| {
        Some(Box::new(OutboxMessage::queued(
            message_kind::ISSUED,
            person.id,
            Some(c.id),
            t0,
        )))
    };
    let results = store
        .write_batch(&[
            Write::Credential(first.clone(), message(&first)),
            // Refused (one Closed per closing): its message must not be stored either.
            Write::Credential(twin.clone(), message(&twin)),
        ])
        .await
        .unwrap();
    assert!(results[0].is_ok());
    assert!(matches!(results[1], Err(DbError::Conflict(_))));
    let all = store
        .list_messages(&MessageFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].credential_id, Some(first.id));

    // Claimed: held until the lease ends, then due again (a crashed sender's row).
    let lease = t0 + Duration::seconds(60);
    let claimed = store.claim_messages(t0, lease, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].attempts, 1);
    assert!(store
        .claim_messages(t0, lease, 10)
        .await
        .unwrap()
        .is_empty());
    let after = lease + Duration::seconds(1);
    let again = store
        .claim_messages(after, after + Duration::seconds(60), 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 2);

    // Sent, then a late failure from a slower sender: it stays sent.
    let id = claimed[0].id;
    store
        .finish_messages(&[(id, SendOutcome::Sent)], after)
        .await
        .unwrap();
    store
        .finish_messages(&[(id, SendOutcome::Failed("late".into()))], after)
        .await
        .unwrap();
    let m = store.message(id).await.unwrap().unwrap();
    assert_eq!(m.status, "sent");
    assert!(m.sent_at.is_some() && m.last_error.is_none());
    let far = after + Duration::days(1);
    assert!(store.claim_messages(far, far, 10).await.unwrap().is_empty());

    // A revocation's message is stored with the revocation, once.
    let revoked = OutboxMessage::queued(message_kind::REVOKED, person.id, Some(first.id), t0);
    store
        .revoke_credential(first.id, "why", t0, Some(&revoked))
        .await
        .unwrap();
    let repeat = OutboxMessage::queued(message_kind::REVOKED, person.id, Some(first.id), t0);
    store
        .revoke_credential(first.id, "why", t0, Some(&repeat))
        .await
        .unwrap();
    assert!(store.message(revoked.id).await.unwrap().is_some());
    assert!(store.message(repeat.id).await.unwrap().is_none());
}
both_backends!(outbox_rows_go_with_what_they_announce, crate::outbox);

/// Sign-in links: used once, never after their expiry; sessions end when deleted.
async fn links_and_sessions(app: &TestApp) {
    use partnership_badges::db::LinkUse;
    let store = &*app.state.store;
    let (person, _) = seed(store).await;
    let t0 = now();
    let later = t0 + Duration::days(30);
    store
        .insert_holder_links(
            &[("a".repeat(64), person.id), ("b".repeat(64), person.id)],
            t0,
            later,
        )
        .await
        .unwrap();
    let a = "a".repeat(64);
    assert_eq!(
        store.use_holder_link(&a, t0).await.unwrap(),
        LinkUse::SignedIn(person.id)
    );
    assert_eq!(store.use_holder_link(&a, t0).await.unwrap(), LinkUse::Used);
    let b = "b".repeat(64);
    assert_eq!(
        store.use_holder_link(&b, later).await.unwrap(),
        LinkUse::Expired
    );
    assert_eq!(
        store.use_holder_link(&"c".repeat(64), t0).await.unwrap(),
        LinkUse::Unknown
    );
    store
        .insert_session("s", person.id, t0, later)
        .await
        .unwrap();
    assert_eq!(
        store.session_person("s", t0).await.unwrap(),
        Some(person.id)
    );
    assert_eq!(store.session_person("s", later).await.unwrap(), None);
    store.delete_session("s").await.unwrap();
    assert_eq!(store.session_person("s", t0).await.unwrap(), None);
}
both_backends!(links_are_used_once, crate::links_and_sessions);

/// A whole partner-fit assessment: every criterion rated, some with a note.
fn partner_fit_json() -> serde_json::Value {
    let r = |score: u8| serde_json::json!({"score": score, "note": format!("rated {score}")});
    serde_json::json!({
        "depth": {"locations_and_audiences": r(3), "organisational_structures": r(2),
                  "localisation": {"score": 1}},
        "spread": {"growth_and_leadership": r(2), "size": r(0), "new_access": r(3)},
        "participation": {"shares_values": r(3), "participates_in_community": r(1),
                          "reputation": r(2)},
    })
}
