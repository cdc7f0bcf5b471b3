//! The two achievements of the program and their criteria, as published in every badge.

// The store owns the slugs: the database's uniqueness rules name them.
pub use crate::db::{CERTIFIED, CLOSED};

/// One achievement (badge class) of the program.
#[derive(Debug, Clone, Copy)]
pub struct Achievement {
    /// URL slug, `{base}/achievements/{slug}`.
    pub slug: &'static str,
    /// OB 3.0 `achievementType`.
    pub achievement_type: &'static str,
    /// Name.
    pub name: &'static str,
    /// One-paragraph description.
    pub description: &'static str,
    /// The criteria, in Markdown: what a person must really have done.
    pub criteria: &'static str,
}

/// Both achievements.
pub const ACHIEVEMENTS: [Achievement; 2] = [
    Achievement {
        slug: CLOSED,
        achievement_type: "Badge",
        name: "Partnership Closed",
        description: "Awarded for leading a real partnership with a local organisation through \
            all five stages (Lead, Conversation, Shaping, Work, Transition) to a formal close, \
            with a program mentor CC'd on the closing communications.",
        criteria: "The recipient led a partnership with a local organisation and closed it. \
            The closing record names the partner, the dates the partnership reached each \
            stage (Lead, Conversation, Shaping, Work, Transition), the date it closed and its \
            outcome. A program mentor, who is not the recipient, was CC'd on the closing \
            communications no later than the closing date; the evidence names the mentor and \
            when they were CC'd.",
    },
    Achievement {
        slug: CERTIFIED,
        achievement_type: "Certification",
        name: "Partnership Certified",
        description: "Certifies a community member to lead partnerships with local \
            organisations. When you close, you've graduated: it is awarded to a person who \
            holds a valid Partnership Closed badge, and lists them among the program's active \
            partnership-certified people.",
        criteria: "The recipient holds a valid (unrevoked, unexpired) Partnership Closed \
            badge: they learned the five stages of a partnership (Lead, Conversation, Shaping, \
            Work, Transition), were mentored, and closed a real partnership with their mentor \
            CC'd on the communications. The evidence lists the closing record(s) and the \
            mentor(s) behind the certification.",
    },
];

/// Looks an achievement up by slug.
pub fn by_slug(slug: &str) -> Option<&'static Achievement> {
    ACHIEVEMENTS.iter().find(|a| a.slug == slug)
}
