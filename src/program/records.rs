//! Mentors, people and closing records: what admins submit, the checks each field gets, and
//! the program's rules for a closing (a mentor who is not the closer, CC'd in time).

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::{normalise_email, now};
use crate::db::{Closing, Mentor, PartnerFit, Person, Stages, Store};
use crate::error::{AppError, AppResult};

/// `POST /api/v1/mentors`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMentor {
    /// Full name: something visible, no bidirectional control characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Email (kept private).
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// Public profile URL.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub url: Option<String>,
}

/// `POST /api/v1/people`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    /// Full name: something visible, no bidirectional control characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Email; credentials carry only its salted hash.
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// City.
    #[serde(default)]
    #[schema(max_length = 100)]
    pub city: Option<String>,
    /// Country.
    #[serde(default)]
    #[schema(max_length = 100)]
    pub country: Option<String>,
    /// Public profile URL.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub url: Option<String>,
    /// List in the public registry of certified people now, on consent collected
    /// elsewhere (then `consent_source` is required). The person's own choice, on their
    /// page, overrides it; after they withdraw, only they can list themselves again.
    pub listed_in_registry: bool,
    /// Where the consent to list was collected (a form, an email, a signed sheet): required
    /// with `listed_in_registry: true`, kept in the consent history.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub consent_source: Option<String>,
}

/// `PATCH /api/v1/people/{id}`: only the fields present change. `city`, `country` and `url`
/// may be `null` to clear them; `name`, `email` and `listed_in_registry` may not.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonPatch {
    /// Full name: something visible, no bidirectional control characters.
    #[serde(default, deserialize_with = "present")]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<Option<String>>,
    /// Email.
    #[serde(default, deserialize_with = "present")]
    #[schema(format = Email, max_length = 254)]
    pub email: Option<Option<String>>,
    /// City (`null` clears).
    #[serde(default, deserialize_with = "present")]
    #[schema(max_length = 100)]
    pub city: Option<Option<String>>,
    /// Country (`null` clears).
    #[serde(default, deserialize_with = "present")]
    #[schema(max_length = 100)]
    pub country: Option<Option<String>>,
    /// Public profile URL (`null` clears).
    #[serde(default, deserialize_with = "present")]
    #[schema(max_length = 2000)]
    pub url: Option<Option<String>>,
    /// List (on consent collected elsewhere: `consent_source` required) or unlist in the
    /// public registry. `409` if the person withdrew their consent on their page.
    #[serde(default, deserialize_with = "present")]
    pub listed_in_registry: Option<Option<bool>>,
    /// Where the consent to list was collected; required with `listed_in_registry: true`.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub consent_source: Option<String>,
}

/// A field that is present (`Some`), possibly `null` (`Some(None)`); absent is `None` via
/// `#[serde(default)]`.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// `POST /api/v1/closings`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClosing {
    /// The person who led and closed the partnership.
    pub closer_id: Uuid,
    /// The mentor CC'd on the closing communications.
    pub mentor_id: Uuid,
    /// When the mentor was CC'd (RFC 3339): from 1900-01-01T00:00:00Z to now, judged in
    /// UTC; kept at whole seconds.
    pub mentor_cc_at: DateTime<Utc>,
    /// Reference to the CC'd message, e.g. its Message-ID.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub mentor_cc_ref: Option<String>,
    /// Partner organisation: something visible, no bidirectional control characters.
    #[schema(min_length = 1, max_length = 200)]
    pub partner_name: String,
    /// Partner web site.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub partner_url: Option<String>,
    /// Partner city.
    #[serde(default)]
    #[schema(max_length = 100)]
    pub partner_city: Option<String>,
    /// Partner country.
    #[serde(default)]
    #[schema(max_length = 100)]
    pub partner_country: Option<String>,
    /// Dates each stage was reached.
    pub stages: Stages,
    /// Day the partnership closed (`YYYY-MM-DD`): from 1900-01-01 to today (UTC).
    pub closed_on: NaiveDate,
    /// Outcome.
    #[schema(min_length = 1, max_length = 5000)]
    pub summary: String,
    /// The program's assessment of the partner (internal): every criterion rated 0–3.
    #[serde(default)]
    pub partner_fit: Option<PartnerFit>,
}

/// A change to a closing: only its partner-fit assessment changes once recorded (the rest
/// is the evidence its badges cite).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClosingPatch {
    /// The new assessment, or `null` to remove it.
    #[schema(required)]
    pub partner_fit: Option<PartnerFit>,
}

/// Checks an assessment: every score 0 to 3, each note at most 1,000
/// characters (trimmed; empty is none).
pub fn partner_fit(mut fit: PartnerFit) -> AppResult<PartnerFit> {
    for (path, rating) in fit.ratings_mut() {
        if rating.score > 3 {
            return Err(AppError::invalid(
                &format!("partner_fit.{path}.score"),
                format!("partner_fit.{path}.score must be 0, 1, 2 or 3"),
            ));
        }
        rating.note = optional_text(
            &format!("partner_fit.{path}.note"),
            rating.note.as_deref(),
            1000,
        )?;
    }
    Ok(fit)
}

/// Sets or removes a closing's assessment.
pub async fn patch_closing(store: &dyn Store, id: Uuid, patch: ClosingPatch) -> AppResult<Closing> {
    let fit = patch.partner_fit.map(partner_fit).transpose()?;
    if !store.set_partner_fit(id, fit.as_ref()).await? {
        return Err(AppError::NotFound(format!("no closing with id {id}")));
    }
    store
        .closing(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no closing with id {id}")))
}

/// A required text field: trimmed, non-empty, at most `max` characters.
pub(crate) fn text(field: &str, value: &str, max: usize) -> AppResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(AppError::invalid(
            field,
            format!("{field} must not be empty"),
        ));
    }
    optional_text(field, Some(v), max).map(|v| v.unwrap_or_default())
}

/// An optional text field: trimmed, empty becomes absent, at most `max` characters.
pub(crate) fn optional_text(
    field: &str,
    value: Option<&str>,
    max: usize,
) -> AppResult<Option<String>> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > max {
        return Err(AppError::invalid(
            field,
            format!("{field} must be at most {max} characters"),
        ));
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(AppError::invalid(
            field,
            format!("{field} must not contain control characters"),
        ));
    }
    Ok(Some(v.to_owned()))
}

/// A human-readable name (of a person, a mentor, a partner, a place): [`text`] that passes
/// [`check_name_chars`].
pub(crate) fn name(field: &str, value: &str, max: usize) -> AppResult<String> {
    let v = text(field, value, max)?;
    check_name_chars(field, &v)?;
    Ok(v)
}

/// An optional name: [`optional_text`] that passes [`check_name_chars`].
pub(crate) fn optional_name(
    field: &str,
    value: Option<&str>,
    max: usize,
) -> AppResult<Option<String>> {
    let v = optional_text(field, value, max)?;
    if let Some(v) = &v {
        check_name_chars(field, v)?;
    }
    Ok(v)
}

/// The characters every name must keep to, wherever one is accepted (records, tokens): at
/// least one visible character, and no bidirectional control. A name is shown to people (on
/// badges, pages, the registry, in lists and logs): one that shows nothing would pass for
/// another, and a bidi override or isolate makes the text after it display reordered, so a
/// name could show as something it is not. Invisible characters between visible ones (a
/// zero-width joiner, which some scripts need) are kept.
pub(crate) fn check_name_chars(field: &str, value: &str) -> AppResult<()> {
    if value.chars().any(is_bidi_control) {
        return Err(AppError::invalid(
            field,
            format!(
                "{field} must not contain bidirectional control characters (U+202A to U+202E, \
                 U+2066 to U+2069, U+200E, U+200F, U+061C)"
            ),
        ));
    }
    if !value.chars().any(is_visible) {
        return Err(AppError::invalid(
            field,
            format!(
                "{field} must contain a visible character, not only spaces, control, format \
                 (zero-width) or filler characters"
            ),
        ));
    }
    Ok(())
}

/// Embeddings and overrides (U+202A–U+202E), isolates (U+2066–U+2069) and the
/// left-to-right, right-to-left and Arabic letter marks.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

/// A character that shows something by itself: a letter, number, punctuation or symbol
/// (general categories L, N, P, S), except the fillers that render blank. Separators and
/// spaces (Z), controls (Cc), format characters (Cf: zero-width space, joiners, word joiner,
/// BOM, soft hyphen, …), private-use and unassigned code points do not; neither do
/// combining marks (M) alone, such as the variation selectors or U+034F.
fn is_visible(c: char) -> bool {
    use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory as _};
    // Hangul fillers and the blank Braille pattern are letters or symbols that show nothing.
    const BLANK: [char; 5] = ['\u{115F}', '\u{1160}', '\u{3164}', '\u{FFA0}', '\u{2800}'];
    matches!(
        c.general_category_group(),
        GeneralCategoryGroup::Letter
            | GeneralCategoryGroup::Number
            | GeneralCategoryGroup::Punctuation
            | GeneralCategoryGroup::Symbol
    ) && !BLANK.contains(&c)
}

/// An email address, normalised (trim + lowercase).
pub(crate) fn email(field: &str, value: &str) -> AppResult<String> {
    let v = normalise_email(value);
    if v.len() > 254 || !email_address::EmailAddress::is_valid(&v) || !v.contains('.') {
        return Err(AppError::invalid(
            field,
            format!("{field} is not a valid email address"),
        ));
    }
    Ok(v)
}

/// An optional absolute `http(s)` URL.
pub(crate) fn optional_url(field: &str, value: Option<&str>) -> AppResult<Option<String>> {
    let Some(v) = optional_text(field, value, 2000)? else {
        return Ok(None);
    };
    let ok = (v.starts_with("https://") || v.starts_with("http://"))
        && v.split("://").nth(1).is_some_and(|rest| {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty() && !rest.contains(char::is_whitespace)
        });
    if !ok {
        return Err(AppError::invalid(
            field,
            format!("{field} must be an absolute http(s) URL"),
        ));
    }
    Ok(Some(v))
}

/// Validates and stores a mentor.
pub async fn create_mentor(store: &dyn Store, input: NewMentor) -> AppResult<Mentor> {
    let mentor = Mentor {
        id: Uuid::new_v4(),
        name: name("name", &input.name, 200)?,
        email: email("email", &input.email)?,
        url: optional_url("url", input.url.as_deref())?,
        created_at: now(),
    };
    store.insert_mentor(&mentor).await?;
    Ok(mentor)
}

/// A `consent_source` without a listing to ground.
fn stray_consent_source() -> AppError {
    AppError::invalid(
        "consent_source",
        "consent_source goes with listed_in_registry: true",
    )
}

/// Validates and stores a person.
pub async fn create_person(store: &dyn Store, input: NewPerson) -> AppResult<Person> {
    let person = Person {
        id: Uuid::new_v4(),
        name: name("name", &input.name, 200)?,
        email: email("email", &input.email)?,
        city: optional_name("city", input.city.as_deref(), 100)?,
        country: optional_name("country", input.country.as_deref(), 100)?,
        url: optional_url("url", input.url.as_deref())?,
        listed_in_registry: false,
        created_at: now(),
        consent: Default::default(),
        erased_at: None,
    };
    let mut person = person;
    if input.listed_in_registry {
        let source = super::consent::admin_source(input.consent_source.as_deref())?;
        let at = person.created_at;
        super::consent::admin_list(&mut person, source, at)?;
    } else if input.consent_source.is_some() {
        return Err(stray_consent_source());
    }
    store.insert_person(&person).await?;
    Ok(person)
}

/// Applies a patch to a person with the same checks as [`create_person`]; writes only if
/// something changed. `NotFound` if there is no such person.
pub async fn update_person(store: &dyn Store, id: Uuid, patch: PersonPatch) -> AppResult<Person> {
    let mut person = store
        .person(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no person with id {id}")))?;
    let before = person.clone();
    let required = |field: &str| AppError::invalid(field, format!("{field} must not be null"));
    if let Some(n) = patch.name {
        person.name = name("name", &n.ok_or_else(|| required("name"))?, 200)?;
    }
    if let Some(e) = patch.email {
        person.email = email("email", &e.ok_or_else(|| required("email"))?)?;
    }
    if let Some(city) = patch.city {
        person.city = optional_name("city", city.as_deref(), 100)?;
    }
    if let Some(country) = patch.country {
        person.country = optional_name("country", country.as_deref(), 100)?;
    }
    if let Some(url) = patch.url {
        person.url = optional_url("url", url.as_deref())?;
    }
    if person.erased_at.is_some() {
        return Err(AppError::Conflict(
            "this person was erased at their request; their record cannot change".into(),
        ));
    }
    match patch.listed_in_registry {
        Some(listed) => {
            let listed = listed.ok_or_else(|| required("listed_in_registry"))?;
            if listed {
                let source = super::consent::admin_source(patch.consent_source.as_deref())?;
                if !person.listed_in_registry || person.consent.source.as_deref() != Some(&source) {
                    super::consent::admin_list(&mut person, source, now())?;
                }
            } else {
                if patch.consent_source.is_some() {
                    return Err(stray_consent_source());
                }
                if person.listed_in_registry {
                    super::consent::admin_unlist(&mut person, now());
                }
            }
        }
        None if patch.consent_source.is_some() => return Err(stray_consent_source()),
        None => {}
    }
    if person != before {
        store.update_person(&person).await?;
    }
    Ok(person)
}

/// Validates a closing against the program's rules and stores it.
pub async fn create_closing(store: &dyn Store, input: NewClosing) -> AppResult<Closing> {
    let now = now();
    let partner_name = name("partner_name", &input.partner_name, 200)?;
    let summary = text("summary", &input.summary, 5000)?;
    let mentor_cc_ref = optional_text("mentor_cc_ref", input.mentor_cc_ref.as_deref(), 500)?;
    let partner_url = optional_url("partner_url", input.partner_url.as_deref())?;
    let partner_city = optional_name("partner_city", input.partner_city.as_deref(), 100)?;
    let partner_country = optional_name("partner_country", input.partner_country.as_deref(), 100)?;
    let closed_on = super::past_date("closed_on", input.closed_on, now.date_naive())?;
    let cc_at = super::past_time("mentor_cc_at", input.mentor_cc_at, now)?;
    if cc_at.date_naive() > closed_on {
        return Err(AppError::invalid(
            "mentor_cc_at",
            "rule: the mentor must be CC'd no later than closed_on",
        ));
    }
    check_stage_order(&input.stages, closed_on)?;
    let partner_fit = input.partner_fit.map(partner_fit).transpose()?;
    let closer = store
        .person(input.closer_id)
        .await?
        .ok_or_else(|| AppError::invalid("closer_id", "closer_id names no person"))?;
    let mentor = store
        .mentor(input.mentor_id)
        .await?
        .ok_or_else(|| AppError::invalid("mentor_id", "mentor_id names no mentor"))?;
    if mentor.email == closer.email {
        return Err(AppError::invalid(
            "mentor_id",
            "rule: the mentor CC'd must not be the closer",
        ));
    }
    let closing = Closing {
        id: Uuid::new_v4(),
        closer_id: closer.id,
        mentor_id: mentor.id,
        mentor_cc_at: cc_at,
        mentor_cc_ref,
        partner_name,
        partner_url,
        partner_city,
        partner_country,
        stages: input.stages,
        closed_on,
        summary,
        created_at: now,
        partner_fit,
    };
    store.insert_closing(&closing).await?;
    Ok(closing)
}

/// Stage dates, where given, must lie in the range of past dates ([`super::past_date`]: from
/// 1900-01-01), run in order and end by the closing date.
fn check_stage_order(stages: &Stages, closed_on: NaiveDate) -> AppResult<()> {
    let named = [
        ("stages.lead", stages.lead),
        ("stages.conversation", stages.conversation),
        ("stages.shaping", stages.shaping),
        ("stages.work", stages.work),
        ("stages.transition", stages.transition),
    ];
    let mut last: Option<(&str, NaiveDate)> = None;
    for (field, date) in named {
        let Some(date) = date else { continue };
        let earliest = super::EARLIEST_DATE;
        if date < earliest {
            return Err(AppError::invalid(
                field,
                format!(
                    "{field} must not be before {earliest}: stage dates run from {earliest} \
                     to closed_on ({closed_on})"
                ),
            ));
        }
        if date > closed_on {
            return Err(AppError::invalid(
                field,
                format!(
                    "{field} must not be after closed_on: stage dates run from {earliest} to \
                     closed_on ({closed_on})"
                ),
            ));
        }
        if let Some((prev_field, prev)) = last {
            if date < prev {
                return Err(AppError::invalid(
                    field,
                    format!("{field} must not be before {prev_field}"),
                ));
            }
        }
        last = Some((field, date));
    }
    Ok(())
}

/// The closer and the mentor a closing form names by email (the console's closing form):
/// each must be recorded already; the error names the field.
pub async fn closing_parties(
    store: &dyn Store,
    closer_email: Option<&str>,
    mentor_email: Option<&str>,
) -> AppResult<(Uuid, Uuid)> {
    let closer_email = closer_email.ok_or_else(|| {
        AppError::invalid(
            "closer_email",
            "closer_email: give the email of the person who closed it",
        )
    })?;
    let mentor_email = mentor_email.ok_or_else(|| {
        AppError::invalid(
            "mentor_email",
            "mentor_email: give the email of the mentor CC'd",
        )
    })?;
    let closer = store
        .person_by_email(&super::normalise_email(closer_email))
        .await?
        .filter(|p| p.erased_at.is_none())
        .ok_or_else(|| {
            AppError::invalid(
                "closer_email",
                "closer_email: no person is recorded with this email; record them first",
            )
        })?;
    let mentor = store
        .mentor_by_email(&super::normalise_email(mentor_email))
        .await?
        .ok_or_else(|| {
            AppError::invalid(
                "mentor_email",
                "mentor_email: no mentor is recorded with this email; record them first",
            )
        })?;
    Ok((closer.id, mentor.id))
}
