//! Whether a typed value serialises to exactly a given JSON value, without building it.
//!
//! Verification trusts the fast path only with a document that its typed view writes back
//! unchanged (`proof::fast_path_credential`). `serde_json::to_value(&typed) == document`
//! answers that, but builds a whole second tree of strings and maps for every verification;
//! [`serializes_to`] walks the document while the typed value serialises instead, and stops at
//! the first difference. It means what that comparison means: object members in any order,
//! `None` as `null`, numbers as `serde_json` makes them.

use serde::ser::{self, Impossible, Serialize};
use serde_json::{Map, Value};

/// True if `serde_json::to_value(value)` would equal `expected`.
pub fn serializes_to<T: Serialize + ?Sized>(value: &T, expected: &Value) -> bool {
    value.serialize(Expect(expected)).is_ok()
}

/// The value differs (or cannot be serialised to JSON): nothing more to say.
#[derive(Debug)]
struct Differs;

impl std::fmt::Display for Differs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the serialised value differs")
    }
}

impl std::error::Error for Differs {}

impl ser::Error for Differs {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Differs
    }
}

/// Serialises by comparing with the value expected there.
struct Expect<'a>(&'a Value);

fn check(same: bool) -> Result<(), Differs> {
    if same {
        Ok(())
    } else {
        Err(Differs)
    }
}

impl<'a> Expect<'a> {
    fn number(self, n: impl Into<Value>) -> Result<(), Differs> {
        check(*self.0 == n.into())
    }

    fn object(self) -> Result<Members<'a>, Differs> {
        match self.0 {
            Value::Object(map) => Ok(Members { map, seen: 0 }),
            _ => Err(Differs),
        }
    }

    fn array(self, len: Option<usize>) -> Result<Items<'a>, Differs> {
        match self.0 {
            Value::Array(items) if len.is_none_or(|n| n == items.len()) => {
                Ok(Items { items, next: 0 })
            }
            _ => Err(Differs),
        }
    }
}

impl<'a> ser::Serializer for Expect<'a> {
    type Ok = ();
    type Error = Differs;
    type SerializeSeq = Items<'a>;
    type SerializeTuple = Items<'a>;
    type SerializeTupleStruct = Items<'a>;
    type SerializeTupleVariant = Impossible<(), Differs>;
    type SerializeMap = Impossible<(), Differs>;
    type SerializeStruct = Members<'a>;
    type SerializeStructVariant = Impossible<(), Differs>;

    fn serialize_bool(self, v: bool) -> Result<(), Differs> {
        check(self.0.as_bool() == Some(v))
    }
    fn serialize_i8(self, v: i8) -> Result<(), Differs> {
        self.number(v)
    }
    fn serialize_i16(self, v: i16) -> Result<(), Differs> {
        self.number(v)
    }
    fn serialize_i32(self, v: i32) -> Result<(), Differs> {
        self.number(v)
    }
    fn serialize_i64(self, v: i64) -> Result<(), Differs> {
        self.number(v)
    }
    fn serialize_u8(self, v: u8) -> Result<(), Differs> {
        self.number(v)
    }
    fn serialize_u16(self, v: u16) -> Result<(), Differs> {
        self.number(v)
    }
    fn serialize_u32(self, v: u32) -> Result<(), Differs> {
        self.number(v)
    }
    fn serialize_u64(self, v: u64) -> Result<(), Differs> {
        self.number(v)
    }
    fn serialize_f32(self, v: f32) -> Result<(), Differs> {
        self.number(v)
    }
    fn serialize_f64(self, v: f64) -> Result<(), Differs> {
        self.number(v)
    }
    fn serialize_char(self, v: char) -> Result<(), Differs> {
        let mut buf = [0; 4];
        self.serialize_str(v.encode_utf8(&mut buf))
    }
    fn serialize_str(self, v: &str) -> Result<(), Differs> {
        check(self.0.as_str() == Some(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Differs> {
        // serde_json writes bytes as an array of numbers.
        let mut items = self.array(Some(v.len()))?;
        for b in v {
            ser::SerializeSeq::serialize_element(&mut items, b)?;
        }
        ser::SerializeSeq::end(items)
    }
    fn serialize_none(self) -> Result<(), Differs> {
        check(self.0.is_null())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Differs> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Differs> {
        check(self.0.is_null())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Differs> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Differs> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Differs> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Differs> {
        // `{"variant": value}`
        let map = match self.0 {
            Value::Object(map) if map.len() == 1 => map,
            _ => return Err(Differs),
        };
        value.serialize(Expect(map.get(variant).ok_or(Differs)?))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Items<'a>, Differs> {
        self.array(len)
    }
    fn serialize_tuple(self, len: usize) -> Result<Items<'a>, Differs> {
        self.array(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Items<'a>, Differs> {
        self.array(Some(len))
    }
    // Not in the credential model: answered as a difference (the caller then takes the
    // general path), never as a false "same".
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Differs> {
        Err(Differs)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Differs> {
        Err(Differs)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Members<'a>, Differs> {
        self.object()
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Differs> {
        Err(Differs)
    }
}

/// A JSON array being compared element by element.
struct Items<'a> {
    items: &'a [Value],
    next: usize,
}

impl Items<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Differs> {
        let expected = self.items.get(self.next).ok_or(Differs)?;
        self.next += 1;
        value.serialize(Expect(expected))
    }
    fn finish(self) -> Result<(), Differs> {
        check(self.next == self.items.len())
    }
}

impl ser::SerializeSeq for Items<'_> {
    type Ok = ();
    type Error = Differs;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Differs> {
        self.element(value)
    }
    fn end(self) -> Result<(), Differs> {
        self.finish()
    }
}

impl ser::SerializeTuple for Items<'_> {
    type Ok = ();
    type Error = Differs;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Differs> {
        self.element(value)
    }
    fn end(self) -> Result<(), Differs> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for Items<'_> {
    type Ok = ();
    type Error = Differs;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Differs> {
        self.element(value)
    }
    fn end(self) -> Result<(), Differs> {
        self.finish()
    }
}

/// A JSON object being compared member by member: each field written must be there with the
/// same value, and no member may be left over.
struct Members<'a> {
    map: &'a Map<String, Value>,
    seen: usize,
}

impl ser::SerializeStruct for Members<'_> {
    type Ok = ();
    type Error = Differs;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Differs> {
        self.seen += 1;
        value.serialize(Expect(self.map.get(key).ok_or(Differs)?))
    }
    fn end(self) -> Result<(), Differs> {
        // Derived structs write each member once, so a count settles "no member left over".
        check(self.seen == self.map.len())
    }
}

#[cfg(test)]
mod tests {
    use super::serializes_to;
    use serde::Serialize;
    use serde_json::json;

    #[derive(Serialize)]
    struct Inner {
        #[serde(rename = "type")]
        kind: Vec<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        flag: bool,
        n: u64,
        maybe: Option<String>,
    }

    #[derive(Serialize)]
    struct Outer {
        id: String,
        inner: Inner,
        list: Vec<Inner>,
    }

    fn sample() -> Outer {
        let inner = |note: Option<&str>| Inner {
            kind: vec!["A".into(), "B".into()],
            note: note.map(str::to_owned),
            flag: true,
            n: 7,
            maybe: None,
        };
        Outer {
            id: "urn:x".into(),
            inner: inner(Some("hi")),
            list: vec![inner(None), inner(Some("x"))],
        }
    }

    #[test]
    fn agrees_with_to_value() {
        let typed = sample();
        let same = serde_json::to_value(&typed).unwrap();
        assert!(serializes_to(&typed, &same));
        // Member order does not matter, as for `Value` equality.
        let reordered = json!({
            "list": same["list"], "inner": same["inner"], "id": "urn:x"
        });
        assert!(serializes_to(&typed, &reordered));

        let mut variants = Vec::new();
        let mut extra = same.clone();
        extra["inner"]["unknown"] = json!(1);
        variants.push(extra);
        let mut missing = same.clone();
        missing["inner"].as_object_mut().unwrap().remove("flag");
        variants.push(missing);
        let mut other = same.clone();
        other["list"][1]["note"] = json!("y");
        variants.push(other);
        let mut longer = same.clone();
        longer["inner"]["type"] = json!(["A", "B", "C"]);
        variants.push(longer);
        let mut scalar = same.clone();
        scalar["inner"]["type"] = json!("A");
        variants.push(scalar);
        let mut number = same.clone();
        number["inner"]["n"] = json!(7.0);
        variants.push(number);
        let mut absent_null = same.clone();
        absent_null["inner"]
            .as_object_mut()
            .unwrap()
            .remove("maybe");
        variants.push(absent_null);
        let mut null_note = same.clone();
        null_note["list"][0]["note"] = json!(null);
        variants.push(null_note);
        for v in variants {
            assert_eq!(
                serializes_to(&typed, &v),
                serde_json::to_value(&typed).unwrap() == v,
                "{v}"
            );
            assert!(!serializes_to(&typed, &v), "{v}");
        }
    }
}
