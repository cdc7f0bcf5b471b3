//! How ids cross the wire: the store's UUIDs as each backend's column type.
//!
//! [`DbId`] is a UUID as the backend stores it: each backend names its column type
//! ([`UuidColumn`]: text on SQLite, native `uuid` on PostgreSQL), so one statement and one
//! decoder serve both.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Type};
use uuid::Uuid;

/// A UUID as the backend stores it: hyphenated text on SQLite, a native `uuid` on
/// PostgreSQL. Bind ids through it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DbId(pub Uuid);

impl From<DbId> for Uuid {
    fn from(id: DbId) -> Uuid {
        id.0
    }
}

/// How a database stores a UUID.
pub trait UuidColumn: Database {
    /// The Rust type sqlx maps that column type to.
    type Uuid: From<Uuid> + Into<Uuid>;
}

impl<DB: UuidColumn> Type<DB> for DbId
where
    DB::Uuid: Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        DB::Uuid::type_info()
    }

    fn compatible(ty: &DB::TypeInfo) -> bool {
        DB::Uuid::compatible(ty)
    }
}

impl<'q, DB: UuidColumn> Encode<'q, DB> for DbId
where
    DB::Uuid: Encode<'q, DB>,
{
    fn encode_by_ref(&self, buf: &mut DB::ArgumentBuffer<'q>) -> Result<IsNull, BoxDynError> {
        DB::Uuid::from(self.0).encode_by_ref(buf)
    }
}

impl<'r, DB: UuidColumn> Decode<'r, DB> for DbId
where
    DB::Uuid: Decode<'r, DB>,
{
    fn decode(value: DB::ValueRef<'r>) -> Result<Self, BoxDynError> {
        DB::Uuid::decode(value).map(|id| DbId(id.into()))
    }
}

/// A nullable id column, decoded as [`DbId`] (`FromRow` converts it into `Option<Uuid>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptDbId(Option<Uuid>);

impl From<OptDbId> for Option<Uuid> {
    fn from(id: OptDbId) -> Option<Uuid> {
        id.0
    }
}

impl<DB: Database> Type<DB> for OptDbId
where
    DbId: Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        DbId::type_info()
    }

    fn compatible(ty: &DB::TypeInfo) -> bool {
        DbId::compatible(ty)
    }
}

impl<'r, DB: Database> Decode<'r, DB> for OptDbId
where
    DbId: Decode<'r, DB>,
{
    fn decode(value: DB::ValueRef<'r>) -> Result<Self, BoxDynError> {
        Option::<DbId>::decode(value).map(|id| OptDbId(id.map(Uuid::from)))
    }
}
