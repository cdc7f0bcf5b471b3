//! Consent to the public registry belongs to the person: they give it on their page,
//! seeing exactly what is published and where, and withdraw it there at once. An admin may
//! list someone only on consent collected elsewhere, naming where (`consent_source`), and
//! never after the person has withdrawn: then only the person can list themselves again.
//! The database records every change in the consent history (a trigger).

use chrono::{DateTime, Utc};

use crate::db::Person;
use crate::error::{AppError, AppResult};

/// The version of the consent text the holder's page shows; stored with each consent, so
/// it is always known what a person agreed to. Change it whenever the text changes.
pub const CONSENT_TEXT_VERSION: &str = "2026-12-03";

/// What the registry publishes of a listed person, as the consent text names it.
pub const PUBLISHED_FIELDS: [&str; 5] = [
    "your name",
    "your city",
    "your country",
    "the date you were first certified (\"certified since\")",
    "the number of partnerships you have closed",
];

/// Where it is published, as the consent text names it.
pub const PUBLISHED_WHERE: [&str; 3] = [
    "the registry page of certified people (/registry)",
    "its machine-readable feeds (/registry.json, JSON Feed and Atom), which other sites read",
    "the registry embedded on webmaker.org",
];

/// The checked source of an admin's listing.
pub fn admin_source(source: Option<&str>) -> AppResult<String> {
    let source = source.map(str::trim).unwrap_or_default();
    if source.is_empty() {
        return Err(AppError::invalid(
            "consent_source",
            "consent_source is required with listed_in_registry: true: say where the \
             person's consent to be listed was collected",
        ));
    }
    if source.chars().count() > 500 || source.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "consent_source",
            "consent_source must be at most 500 characters on one line",
        ));
    }
    Ok(source.to_owned())
}

/// An admin lists the person on consent collected elsewhere; refused (409) once the
/// person has withdrawn on their page.
pub fn admin_list(person: &mut Person, source: String, at: DateTime<Utc>) -> AppResult<()> {
    if person.consent.withdrawn_at.is_some() {
        return Err(AppError::Conflict(
            "rule: this person withdrew their consent to the registry on their own page; \
             only they can list themselves again"
                .into(),
        ));
    }
    person.listed_in_registry = true;
    person.consent.by = Some("admin".into());
    person.consent.source = Some(source);
    person.consent.version = None;
    person.consent.at = Some(at);
    Ok(())
}

/// An admin takes the person off the registry (this is not the person's withdrawal: an
/// admin may list them again on consent collected elsewhere).
pub fn admin_unlist(person: &mut Person, at: DateTime<Utc>) {
    person.listed_in_registry = false;
    person.consent.by = Some("admin".into());
    person.consent.source = None;
    person.consent.version = None;
    person.consent.at = Some(at);
}

/// The person gives their consent on their page, to the text of [`CONSENT_TEXT_VERSION`].
pub fn holder_give(person: &mut Person, at: DateTime<Utc>) {
    person.listed_in_registry = true;
    person.consent.by = Some("holder".into());
    person.consent.source = None;
    person.consent.version = Some(CONSENT_TEXT_VERSION.into());
    person.consent.at = Some(at);
    person.consent.withdrawn_at = None;
}

/// The person withdraws on their page: unlisted at once, and only they may list again.
pub fn holder_withdraw(person: &mut Person, at: DateTime<Utc>) {
    person.listed_in_registry = false;
    person.consent.by = Some("holder".into());
    person.consent.source = None;
    person.consent.version = Some(CONSENT_TEXT_VERSION.into());
    person.consent.at = Some(at);
    person.consent.withdrawn_at = Some(at);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person() -> Person {
        Person {
            id: uuid::Uuid::new_v4(),
            name: "Ada".into(),
            email: "ada@example.org".into(),
            city: None,
            country: None,
            url: None,
            listed_in_registry: false,
            created_at: Utc::now(),
            consent: Default::default(),
            erased_at: None,
        }
    }

    #[test]
    fn after_a_withdrawal_only_the_holder_relists() {
        let mut p = person();
        admin_list(&mut p, "signed form".into(), Utc::now()).unwrap();
        assert!(p.listed_in_registry);
        holder_withdraw(&mut p, Utc::now());
        assert!(!p.listed_in_registry);
        assert!(matches!(
            admin_list(&mut p, "again".into(), Utc::now()),
            Err(AppError::Conflict(_))
        ));
        assert!(!p.listed_in_registry);
        holder_give(&mut p, Utc::now());
        assert!(p.listed_in_registry && p.consent.withdrawn_at.is_none());
        admin_unlist(&mut p, Utc::now());
        admin_list(&mut p, "form".into(), Utc::now()).unwrap();
        assert!(p.listed_in_registry);
    }

    #[test]
    fn an_admin_listing_names_its_source() {
        assert!(admin_source(None).is_err());
        assert!(admin_source(Some("  ")).is_err());
        assert_eq!(admin_source(Some(" form 12 ")).unwrap(), "form 12");
    }
}
