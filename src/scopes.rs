//! Admin API scopes: what a token may do, and sets of them as the database stores them;
//! the staff console's roles, each a set of scopes.
//!
//! Below both the token logic and the store (it imports nothing of the crate), so the store
//! can hold a token's scopes without depending on the code that checks them.

use std::fmt;

use serde::{Serialize, Serializer};

/// What a token may do. `admin` implies the other three.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Record mentors, people and closings; issue credentials.
    Issue,
    /// Revoke credentials.
    Revoke,
    /// Read the admin API (`GET`).
    Read,
    /// Everything, plus token management and the audit log.
    Admin,
}

impl Scope {
    /// Every scope, in the order they are written.
    pub const ALL: [Scope; 4] = [Scope::Issue, Scope::Revoke, Scope::Read, Scope::Admin];

    /// The name used in settings, the API and the database.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Issue => "issue",
            Scope::Revoke => "revoke",
            Scope::Read => "read",
            Scope::Admin => "admin",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }

    /// The scope with this name.
    pub fn from_name(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of scopes; written as a comma-separated list (`issue,read`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes(u8);

impl Scopes {
    /// Only `scope`.
    pub fn only(scope: Scope) -> Scopes {
        Scopes(scope.bit())
    }

    /// Parses names (comma-separated, surrounding spaces ignored); at least one, each known.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Scopes, String> {
        let mut set = Scopes::default();
        for name in names {
            let name = name.trim();
            let scope = Scope::from_name(name).ok_or_else(|| {
                format!("unknown scope {name:?}; scopes are issue, revoke, read and admin")
            })?;
            set.0 |= scope.bit();
        }
        if set.0 == 0 {
            return Err("give at least one scope: issue, revoke, read or admin".into());
        }
        Ok(set)
    }

    /// Parses `issue,read`.
    pub fn parse_list(list: &str) -> Result<Scopes, String> {
        Scopes::parse(list.split(',').filter(|s| !s.trim().is_empty()))
    }

    /// Reads the stored form; names this version does not know grant nothing.
    pub fn from_stored(list: &str) -> Scopes {
        Scopes(
            list.split(',')
                .filter_map(|s| Scope::from_name(s.trim()))
                .fold(0, |bits, s| bits | s.bit()),
        )
    }

    /// Whether a request needing `scope` is allowed (`admin` allows everything).
    pub fn allows(self, scope: Scope) -> bool {
        self.0 & (scope.bit() | Scope::Admin.bit()) != 0
    }

    /// Whether `scope` itself is in the set.
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// The scopes in the set, in [`Scope::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Scope::name).collect();
        f.write_str(&names.join(","))
    }
}

impl Serialize for Scopes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(Scope::name))
    }
}

/// The stored form, as [`Scopes::from_stored`] reads it.
impl From<String> for Scopes {
    fn from(list: String) -> Scopes {
        Scopes::from_stored(&list)
    }
}

/// A staff member's role in the console: a name for a set of the API's scopes, so a
/// console action needs what the same API request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything: records, awarding, revoking, tokens and the audit log.
    Admin,
    /// Records closings and people, awards and revokes badges.
    Issuer,
    /// Reads everything and may revoke a badge found to be wrong; awards nothing.
    Reviewer,
    /// Reads only.
    Reader,
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Issuer, Role::Reviewer, Role::Reader];

    /// The name used on the command line and in the database.
    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Issuer => "issuer",
            Role::Reviewer => "reviewer",
            Role::Reader => "reader",
        }
    }

    /// The role with this name.
    pub fn from_name(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == name)
    }

    /// What the role may do, in the API's scopes.
    pub fn scopes(self) -> Scopes {
        let set = |scopes: &[Scope]| Scopes(scopes.iter().fold(0, |bits, s| bits | s.bit()));
        match self {
            Role::Admin => set(&[Scope::Admin]),
            Role::Issuer => set(&[Scope::Issue, Scope::Revoke, Scope::Read]),
            Role::Reviewer => set(&[Scope::Revoke, Scope::Read]),
            Role::Reader => set(&[Scope::Read]),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The stored form; a name this version does not know is the least role, `reader`.
impl From<String> for Role {
    fn from(name: String) -> Role {
        Role::from_name(&name).unwrap_or(Role::Reader)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_scopes() {
        assert!(Role::Admin.scopes().allows(Scope::Admin));
        assert!(Role::Issuer.scopes().allows(Scope::Issue));
        assert!(!Role::Issuer.scopes().allows(Scope::Admin));
        assert!(Role::Reviewer.scopes().allows(Scope::Revoke));
        assert!(!Role::Reviewer.scopes().allows(Scope::Issue));
        assert!(Role::Reader.scopes().allows(Scope::Read));
        assert!(!Role::Reader.scopes().allows(Scope::Revoke));
        for r in Role::ALL {
            assert_eq!(Role::from_name(r.name()), Some(r));
        }
    }
}
