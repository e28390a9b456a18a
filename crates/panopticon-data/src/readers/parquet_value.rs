//! Typed conversion of Parquet cells ([`ParquetValue`]), used by
//! [`ParquetTable::column`](super::ParquetTable::column).
//!
//! Conversions only widen, never guess: any integer column reads as `i64`, `FLOAT` and
//! `DOUBLE` as `f64`; a string never becomes a number and a timestamp never an integer.

use parquet::record::Field;

/// Why a cell could not become the requested type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Mismatch {
    /// The cell (or a list element) is null but the type has no null.
    Null {
        /// Index inside the list, for list elements.
        element: Option<usize>,
    },
    /// The cell holds another type.
    Type {
        /// The Parquet value kind found.
        got: &'static str,
        /// Index inside the list, for list elements.
        element: Option<usize>,
    },
}

impl Mismatch {
    fn in_element(self, k: usize) -> Self {
        match self {
            Self::Null { element: None } => Self::Null { element: Some(k) },
            Self::Type { got, element: None } => Self::Type {
                got,
                element: Some(k),
            },
            // Nested lists: keep the outermost position only.
            other => other,
        }
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A Rust type a Parquet column can be read into: `String`, `i64`, `i32`, `f64`, `f32`,
/// `bool`, and `Option<T>` / `Vec<T>` of those (`Vec<T>` reads a `LIST` column, one `Vec`
/// per row).
///
/// * `i64` accepts every signed and unsigned integer cell up to `i64::MAX`; `i32` accepts
///   8/16/32-bit cells (a 64-bit cell is a type error even if the value would fit, so a
///   column's type decides, not its data).
/// * `f64` accepts `FLOAT` and `DOUBLE`; `f32` only `FLOAT`.
/// * A null cell is an error unless the type is `Option<_>`; a null `LIST` reads as an error
///   for `Vec<_>` and `None` for `Option<Vec<_>>`; null *elements* need `Vec<Option<_>>`.
pub trait ParquetValue: Sized + sealed::Sealed {
    /// What the type expects, for error messages.
    const EXPECTED: &'static str;
    /// What the elements of a list type expect (= `EXPECTED` for scalars).
    const ELEMENT: &'static str = Self::EXPECTED;

    #[doc(hidden)]
    #[allow(private_interfaces)]
    fn from_field(field: &Field) -> Result<Self, Mismatch>;
}

/// The Parquet value kind of a cell, for error messages.
pub(crate) fn kind(field: &Field) -> &'static str {
    match field {
        Field::Null => "null",
        Field::Bool(_) => "boolean",
        Field::Byte(_) | Field::Short(_) | Field::Int(_) => "int32",
        Field::Long(_) => "int64",
        Field::UByte(_) | Field::UShort(_) | Field::UInt(_) => "uint32",
        Field::ULong(_) => "uint64",
        Field::Float16(_) => "float16",
        Field::Float(_) => "float",
        Field::Double(_) => "double",
        Field::Decimal(_) => "decimal",
        Field::Str(_) => "string",
        Field::Bytes(_) => "binary",
        Field::Date(_) => "date",
        Field::TimeMillis(_) | Field::TimeMicros(_) => "time",
        Field::TimestampMillis(_) | Field::TimestampMicros(_) => "timestamp",
        Field::Group(_) => "struct",
        Field::ListInternal(_) => "list",
        Field::MapInternal(_) => "map",
    }
}

fn mismatch(field: &Field) -> Mismatch {
    match field {
        Field::Null => Mismatch::Null { element: None },
        other => Mismatch::Type {
            got: kind(other),
            element: None,
        },
    }
}

impl sealed::Sealed for String {}
impl ParquetValue for String {
    const EXPECTED: &'static str = "string";
    #[allow(private_interfaces)]
    fn from_field(field: &Field) -> Result<Self, Mismatch> {
        match field {
            Field::Str(s) => Ok(s.clone()),
            other => Err(mismatch(other)),
        }
    }
}

impl sealed::Sealed for i64 {}
impl ParquetValue for i64 {
    const EXPECTED: &'static str = "integer";
    #[allow(private_interfaces)]
    fn from_field(field: &Field) -> Result<Self, Mismatch> {
        match *field {
            Field::Byte(v) => Ok(v.into()),
            Field::Short(v) => Ok(v.into()),
            Field::Int(v) => Ok(v.into()),
            Field::Long(v) => Ok(v),
            Field::UByte(v) => Ok(v.into()),
            Field::UShort(v) => Ok(v.into()),
            Field::UInt(v) => Ok(v.into()),
            Field::ULong(v) => i64::try_from(v).map_err(|_| Mismatch::Type {
                got: "uint64 above i64::MAX",
                element: None,
            }),
            ref other => Err(mismatch(other)),
        }
    }
}

impl sealed::Sealed for i32 {}
impl ParquetValue for i32 {
    const EXPECTED: &'static str = "32-bit integer";
    #[allow(private_interfaces)]
    fn from_field(field: &Field) -> Result<Self, Mismatch> {
        match *field {
            Field::Byte(v) => Ok(v.into()),
            Field::Short(v) => Ok(v.into()),
            Field::Int(v) => Ok(v),
            Field::UByte(v) => Ok(v.into()),
            Field::UShort(v) => Ok(v.into()),
            ref other => Err(mismatch(other)),
        }
    }
}

impl sealed::Sealed for f64 {}
impl ParquetValue for f64 {
    const EXPECTED: &'static str = "float or double";
    #[allow(private_interfaces)]
    fn from_field(field: &Field) -> Result<Self, Mismatch> {
        match *field {
            Field::Float(v) => Ok(v.into()),
            Field::Double(v) => Ok(v),
            ref other => Err(mismatch(other)),
        }
    }
}

impl sealed::Sealed for f32 {}
impl ParquetValue for f32 {
    const EXPECTED: &'static str = "float";
    #[allow(private_interfaces)]
    fn from_field(field: &Field) -> Result<Self, Mismatch> {
        match *field {
            Field::Float(v) => Ok(v),
            ref other => Err(mismatch(other)),
        }
    }
}

impl sealed::Sealed for bool {}
impl ParquetValue for bool {
    const EXPECTED: &'static str = "boolean";
    #[allow(private_interfaces)]
    fn from_field(field: &Field) -> Result<Self, Mismatch> {
        match *field {
            Field::Bool(v) => Ok(v),
            ref other => Err(mismatch(other)),
        }
    }
}

impl<T: ParquetValue> sealed::Sealed for Option<T> {}
impl<T: ParquetValue> ParquetValue for Option<T> {
    const EXPECTED: &'static str = T::EXPECTED;
    const ELEMENT: &'static str = T::ELEMENT;
    #[allow(private_interfaces)]
    fn from_field(field: &Field) -> Result<Self, Mismatch> {
        match field {
            Field::Null => Ok(None),
            other => T::from_field(other).map(Some),
        }
    }
}

impl<T: ParquetValue> sealed::Sealed for Vec<T> {}
impl<T: ParquetValue> ParquetValue for Vec<T> {
    const EXPECTED: &'static str = "list";
    const ELEMENT: &'static str = T::EXPECTED;
    #[allow(private_interfaces)]
    fn from_field(field: &Field) -> Result<Self, Mismatch> {
        match field {
            Field::ListInternal(list) => list
                .elements()
                .iter()
                .enumerate()
                .map(|(k, e)| T::from_field(e).map_err(|m| m.in_element(k)))
                .collect(),
            other => Err(mismatch(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use parquet::record::Field;

    use super::{Mismatch, ParquetValue};

    #[test]
    fn widening_only() {
        assert_eq!(i64::from_field(&Field::UInt(7)), Ok(7));
        assert_eq!(f64::from_field(&Field::Float(0.5)), Ok(0.5));
        assert!(matches!(
            i32::from_field(&Field::Long(1)),
            Err(Mismatch::Type { got: "int64", .. })
        ));
        assert!(i64::from_field(&Field::ULong(u64::MAX)).is_err());
        assert!(i64::from_field(&Field::Str("1".into())).is_err());
        assert!(f32::from_field(&Field::Double(1.0)).is_err());
        assert!(i64::from_field(&Field::TimestampMicros(1)).is_err());
    }

    #[test]
    fn nulls_need_options() {
        // (List cells are covered by `tests/parquet.rs`: the crate cannot build them here.)
        assert_eq!(Option::<Vec<i64>>::from_field(&Field::Null), Ok(None));
        assert_eq!(Option::<i64>::from_field(&Field::Int(3)), Ok(Some(3)));
        assert_eq!(
            Vec::<i64>::from_field(&Field::Null),
            Err(Mismatch::Null { element: None })
        );
        assert_eq!(
            String::from_field(&Field::Null),
            Err(Mismatch::Null { element: None })
        );
    }
}
