//! `#[serde(with = "kcodec::record::avro_time::…")]`: dates and times as Avro logical types.
//!
//! serde's default form of `chrono` and `time` values is a string (RFC 3339 or similar), which an
//! Avro `long`/`int` can't hold. Each module here writes the number the Avro logical type
//! stores, as Confluent's (Java) serializers do, and `#[derive(Record)]` reads the module's name
//! to write the logical type into the schema:
//!
//! | module | Avro schema | Rust types |
//! |---|---|---|
//! | [`timestamp_millis`] | `{"type":"long","logicalType":"timestamp-millis"}` | [`AvroInstant`]: `chrono::DateTime<Utc>`, `chrono::DateTime<FixedOffset>`, `time::OffsetDateTime`, `std::time::SystemTime` |
//! | [`timestamp_micros`] | `{"type":"long","logicalType":"timestamp-micros"}` | the same |
//! | [`local_timestamp_millis`] | `{"type":"long","logicalType":"local-timestamp-millis"}` | [`AvroLocalDateTime`]: `chrono::NaiveDateTime`, `time::PrimitiveDateTime` |
//! | [`local_timestamp_micros`] | `{"type":"long","logicalType":"local-timestamp-micros"}` | the same |
//! | [`date`] | `{"type":"int","logicalType":"date"}` | [`AvroDate`]: `chrono::NaiveDate`, `time::Date` |
//! | [`time_millis`] | `{"type":"int","logicalType":"time-millis"}` | [`AvroTimeOfDay`]: `chrono::NaiveTime`, `time::Time` |
//! | [`time_micros`] | `{"type":"long","logicalType":"time-micros"}` | the same |
//!
//! Every module also takes `Option` of its types (the schema is then `["null", …]`, default
//! `null`). The `chrono` and `time` types need the kcodec features of the same names.
//!
//! Writing truncates towards the past to the unit of the logical type, as Java's
//! `Instant.toEpochMilli()` does: a value with finer precision does not read back equal. A value
//! outside the range of the Avro number (or of the Rust type, when reading), and a chrono leap
//! second as a time of day, are serde errors, never a panic or a wrapped number. Offsets are not
//! stored (Avro timestamps are instants): a `DateTime<FixedOffset>` or `OffsetDateTime` reads
//! back in UTC, equal as an instant.
//!
//! ```
//! use kcodec_codecs::record::avro_time;
//! use serde::{Deserialize, Serialize};
//! use std::time::{Duration, SystemTime};
//!
//! #[derive(Serialize, Deserialize)]
//! struct Event {
//!     #[serde(with = "avro_time::timestamp_millis")]
//!     at: SystemTime,
//!     #[serde(with = "avro_time::timestamp_micros")]
//!     seen: Option<SystemTime>,
//! }
//! let at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
//! let json = serde_json::to_string(&Event { at, seen: None }).unwrap();
//! assert_eq!(json, r#"{"at":1700000000123,"seen":null}"#);
//! let back: Event = serde_json::from_str(&json).unwrap();
//! assert_eq!(back.at, at);
//! ```

use serde::de::{self, Deserializer};
use serde::ser::{self, Serializer};
use std::marker::PhantomData;

const NANOS_PER_SEC: i128 = 1_000_000_000;
const NANOS_PER_DAY: u64 = 86_400 * 1_000_000_000;

/// An instant on the UTC time line, for the `timestamp-*` logical types.
pub trait AvroInstant: Sized {
    /// Nanoseconds since 1970-01-01T00:00:00Z (negative before).
    fn to_unix_nanos(&self) -> i128;
    /// The instant `nanos` after the Unix epoch, or `None` if the type can't hold it.
    fn from_unix_nanos(nanos: i128) -> Option<Self>;
}

/// A date and time without a time zone, for the `local-timestamp-*` logical types.
pub trait AvroLocalDateTime: Sized {
    /// Nanoseconds since 1970-01-01T00:00:00 (local time, negative before).
    fn to_local_nanos(&self) -> i128;
    /// The date and time `nanos` after 1970-01-01T00:00:00, or `None` if out of range.
    fn from_local_nanos(nanos: i128) -> Option<Self>;
}

/// A calendar date, for the `date` logical type.
pub trait AvroDate: Sized {
    /// Days since 1970-01-01 (negative before).
    fn to_epoch_days(&self) -> i64;
    /// The date `days` after 1970-01-01, or `None` if out of range.
    fn from_epoch_days(days: i64) -> Option<Self>;
}

/// A time of day, for the `time-*` logical types.
pub trait AvroTimeOfDay: Sized {
    /// Nanoseconds after midnight, below 86 400 × 10⁹; `None` for a value Avro can't hold (a
    /// leap second).
    fn to_nanos_of_day(&self) -> Option<u64>;
    /// The time `nanos` after midnight, or `None` if not below one day.
    fn from_nanos_of_day(nanos: u64) -> Option<Self>;
}

/// The Avro logical types, as type-level markers for [`AvroTimeField`].
pub mod kind {
    /// `timestamp-millis`.
    #[derive(Debug)]
    pub enum TimestampMillis {}
    /// `timestamp-micros`.
    #[derive(Debug)]
    pub enum TimestampMicros {}
    /// `local-timestamp-millis`.
    #[derive(Debug)]
    pub enum LocalTimestampMillis {}
    /// `local-timestamp-micros`.
    #[derive(Debug)]
    pub enum LocalTimestampMicros {}
    /// `date`.
    #[derive(Debug)]
    pub enum Date {}
    /// `time-millis`.
    #[derive(Debug)]
    pub enum TimeMillis {}
    /// `time-micros`.
    #[derive(Debug)]
    pub enum TimeMicros {}
}

/// A field type the module of logical type `K` reads and writes: a type of the matching trait
/// ([`AvroInstant`], …) or an `Option` of one.
#[diagnostic::on_unimplemented(
    message = "`{Self}` can't be written as this Avro date/time logical type",
    note = "timestamp_*: chrono::DateTime<Utc|FixedOffset>, time::OffsetDateTime, SystemTime; local_timestamp_*: chrono::NaiveDateTime, time::PrimitiveDateTime; date: chrono::NaiveDate, time::Date; time_*: chrono::NaiveTime, time::Time (or Option of one; chrono/time need the kcodec features of the same names)"
)]
pub trait AvroTimeField<K>: Sized {
    /// Writes the Avro number (or `None`/`Some`).
    fn serialize_avro<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error>;
    /// Reads what [`serialize_avro`](Self::serialize_avro) wrote.
    fn deserialize_avro<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error>;
}

fn to_i64<E: ser::Error>(v: i128, what: &str) -> Result<i64, E> {
    i64::try_from(v).map_err(|_| E::custom(format!("{what} out of the range of an Avro long")))
}

fn out_of_range<E: de::Error>(v: i64, what: &str) -> E {
    E::custom(format!("{what} {v} is out of the range of the Rust type"))
}

macro_rules! scaled_i64 {
    ($kind:ident, $trait:ident, $to:ident, $from:ident, $unit:expr, $what:literal) => {
        impl<T: $trait> AvroTimeField<kind::$kind> for T {
            fn serialize_avro<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_i64(to_i64(self.$to().div_euclid($unit), $what)?)
            }

            fn deserialize_avro<'de, D: Deserializer<'de>>(
                deserializer: D,
            ) -> Result<Self, D::Error> {
                let v = <i64 as serde::Deserialize>::deserialize(deserializer)?;
                T::$from(i128::from(v) * $unit).ok_or_else(|| out_of_range(v, $what))
            }
        }
    };
}

scaled_i64!(
    TimestampMillis,
    AvroInstant,
    to_unix_nanos,
    from_unix_nanos,
    1_000_000,
    "timestamp-millis"
);
scaled_i64!(
    TimestampMicros,
    AvroInstant,
    to_unix_nanos,
    from_unix_nanos,
    1_000,
    "timestamp-micros"
);
scaled_i64!(
    LocalTimestampMillis,
    AvroLocalDateTime,
    to_local_nanos,
    from_local_nanos,
    1_000_000,
    "local-timestamp-millis"
);
scaled_i64!(
    LocalTimestampMicros,
    AvroLocalDateTime,
    to_local_nanos,
    from_local_nanos,
    1_000,
    "local-timestamp-micros"
);

impl<T: AvroDate> AvroTimeField<kind::Date> for T {
    fn serialize_avro<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let days = i32::try_from(self.to_epoch_days()).map_err(|_| {
            <S::Error as ser::Error>::custom("date out of the range of an Avro int")
        })?;
        serializer.serialize_i32(days)
    }

    fn deserialize_avro<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let v = <i32 as serde::Deserialize>::deserialize(deserializer)?;
        T::from_epoch_days(i64::from(v)).ok_or_else(|| out_of_range(i64::from(v), "date"))
    }
}

fn nanos_of_day<T: AvroTimeOfDay, E: ser::Error>(t: &T) -> Result<u64, E> {
    t.to_nanos_of_day()
        .filter(|n| *n < NANOS_PER_DAY)
        .ok_or_else(|| E::custom("a leap second has no Avro time-of-day value"))
}

fn time_of_day<T: AvroTimeOfDay, E: de::Error>(v: i64, unit: u64, what: &str) -> Result<T, E> {
    u64::try_from(v)
        .ok()
        .and_then(|v| v.checked_mul(unit))
        .filter(|n| *n < NANOS_PER_DAY)
        .and_then(T::from_nanos_of_day)
        .ok_or_else(|| E::custom(format!("{what} {v} is not a time of day")))
}

impl<T: AvroTimeOfDay> AvroTimeField<kind::TimeMillis> for T {
    fn serialize_avro<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Below 86 400 000: always an int.
        serializer.serialize_i32((nanos_of_day::<T, S::Error>(self)? / 1_000_000) as i32)
    }

    fn deserialize_avro<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let v = <i32 as serde::Deserialize>::deserialize(deserializer)?;
        time_of_day(i64::from(v), 1_000_000, "time-millis")
    }
}

impl<T: AvroTimeOfDay> AvroTimeField<kind::TimeMicros> for T {
    fn serialize_avro<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64((nanos_of_day::<T, S::Error>(self)? / 1_000) as i64)
    }

    fn deserialize_avro<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let v = <i64 as serde::Deserialize>::deserialize(deserializer)?;
        time_of_day(v, 1_000, "time-micros")
    }
}

/// Writes `Some`'s value through [`AvroTimeField`].
struct Inner<'a, T, K>(&'a T, PhantomData<K>);

impl<T: AvroTimeField<K>, K> serde::Serialize for Inner<'_, T, K> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_avro(serializer)
    }
}

/// Reads `Some`'s value through [`AvroTimeField`].
struct InnerDe<T, K>(T, PhantomData<K>);

impl<'de, T: AvroTimeField<K>, K> serde::Deserialize<'de> for InnerDe<T, K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize_avro(deserializer).map(|v| InnerDe(v, PhantomData))
    }
}

impl<T: AvroTimeField<K>, K> AvroTimeField<K> for Option<T> {
    fn serialize_avro<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Some(v) => serializer.serialize_some(&Inner(v, PhantomData::<K>)),
            None => serializer.serialize_none(),
        }
    }

    fn deserialize_avro<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <Option<InnerDe<T, K>> as serde::Deserialize>::deserialize(deserializer)
            .map(|o| o.map(|InnerDe(v, _)| v))
    }
}

macro_rules! module {
    ($name:ident, $kind:ident, $schema:literal) => {
        #[doc = concat!("`", $schema, "`: see the [module docs](super).")]
        pub mod $name {
            use super::{AvroTimeField, kind};

            /// Writes `value` as the Avro number of this logical type.
            pub fn serialize<T, S>(value: &T, serializer: S) -> Result<S::Ok, S::Error>
            where
                T: AvroTimeField<kind::$kind>,
                S: serde::Serializer,
            {
                value.serialize_avro(serializer)
            }

            /// Reads a value written by [`serialize`].
            pub fn deserialize<'de, T, D>(deserializer: D) -> Result<T, D::Error>
            where
                T: AvroTimeField<kind::$kind>,
                D: serde::Deserializer<'de>,
            {
                T::deserialize_avro(deserializer)
            }
        }
    };
}

module!(
    timestamp_millis,
    TimestampMillis,
    r#"{"type":"long","logicalType":"timestamp-millis"}"#
);
module!(
    timestamp_micros,
    TimestampMicros,
    r#"{"type":"long","logicalType":"timestamp-micros"}"#
);
module!(
    local_timestamp_millis,
    LocalTimestampMillis,
    r#"{"type":"long","logicalType":"local-timestamp-millis"}"#
);
module!(
    local_timestamp_micros,
    LocalTimestampMicros,
    r#"{"type":"long","logicalType":"local-timestamp-micros"}"#
);
module!(date, Date, r#"{"type":"int","logicalType":"date"}"#);
module!(
    time_millis,
    TimeMillis,
    r#"{"type":"int","logicalType":"time-millis"}"#
);
module!(
    time_micros,
    TimeMicros,
    r#"{"type":"long","logicalType":"time-micros"}"#
);

impl AvroInstant for std::time::SystemTime {
    fn to_unix_nanos(&self) -> i128 {
        match self.duration_since(std::time::UNIX_EPOCH) {
            Ok(after) => after.as_nanos() as i128,
            Err(before) => -(before.duration().as_nanos() as i128),
        }
    }

    fn from_unix_nanos(nanos: i128) -> Option<Self> {
        let secs = u64::try_from(nanos.unsigned_abs() / NANOS_PER_SEC as u128).ok()?;
        let sub = (nanos.unsigned_abs() % NANOS_PER_SEC as u128) as u32;
        let d = std::time::Duration::new(secs, sub);
        if nanos >= 0 {
            std::time::UNIX_EPOCH.checked_add(d)
        } else {
            std::time::UNIX_EPOCH.checked_sub(d)
        }
    }
}

#[cfg(feature = "chrono")]
mod chrono_impls {
    use super::{AvroDate, AvroInstant, AvroLocalDateTime, AvroTimeOfDay, NANOS_PER_SEC};
    use chrono::{
        DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc,
    };

    /// Days from 0001-01-01 (chrono's day 1 of the common era) to 1970-01-01.
    const UNIX_EPOCH_DAYS_FROM_CE: i64 = 719_163;

    fn nanos(secs: i64, subsec: u32) -> i128 {
        i128::from(secs) * NANOS_PER_SEC + i128::from(subsec)
    }

    fn utc(n: i128) -> Option<DateTime<Utc>> {
        let secs = i64::try_from(n.div_euclid(NANOS_PER_SEC)).ok()?;
        DateTime::from_timestamp(secs, n.rem_euclid(NANOS_PER_SEC) as u32)
    }

    impl AvroInstant for DateTime<Utc> {
        fn to_unix_nanos(&self) -> i128 {
            nanos(self.timestamp(), self.timestamp_subsec_nanos())
        }
        fn from_unix_nanos(n: i128) -> Option<Self> {
            utc(n)
        }
    }

    impl AvroInstant for DateTime<FixedOffset> {
        fn to_unix_nanos(&self) -> i128 {
            nanos(self.timestamp(), self.timestamp_subsec_nanos())
        }
        fn from_unix_nanos(n: i128) -> Option<Self> {
            utc(n).map(|d| d.fixed_offset())
        }
    }

    impl AvroLocalDateTime for NaiveDateTime {
        fn to_local_nanos(&self) -> i128 {
            let d = self.and_utc();
            nanos(d.timestamp(), d.timestamp_subsec_nanos())
        }
        fn from_local_nanos(n: i128) -> Option<Self> {
            utc(n).map(|d| d.naive_utc())
        }
    }

    impl AvroDate for NaiveDate {
        fn to_epoch_days(&self) -> i64 {
            i64::from(self.num_days_from_ce()) - UNIX_EPOCH_DAYS_FROM_CE
        }
        fn from_epoch_days(days: i64) -> Option<Self> {
            let ce = i32::try_from(days.checked_add(UNIX_EPOCH_DAYS_FROM_CE)?).ok()?;
            NaiveDate::from_num_days_from_ce_opt(ce)
        }
    }

    impl AvroTimeOfDay for NaiveTime {
        fn to_nanos_of_day(&self) -> Option<u64> {
            let sub = self.nanosecond();
            // chrono represents a leap second as nanoseconds >= 10^9.
            (sub < 1_000_000_000).then(|| {
                u64::from(self.num_seconds_from_midnight()) * 1_000_000_000 + u64::from(sub)
            })
        }
        fn from_nanos_of_day(n: u64) -> Option<Self> {
            let secs = u32::try_from(n / 1_000_000_000).ok()?;
            NaiveTime::from_num_seconds_from_midnight_opt(secs, (n % 1_000_000_000) as u32)
        }
    }
}

#[cfg(feature = "time")]
mod time_impls {
    use super::{AvroDate, AvroInstant, AvroLocalDateTime, AvroTimeOfDay};
    use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

    /// The Julian day number of 1970-01-01.
    const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;

    impl AvroInstant for OffsetDateTime {
        fn to_unix_nanos(&self) -> i128 {
            self.unix_timestamp_nanos()
        }
        fn from_unix_nanos(n: i128) -> Option<Self> {
            OffsetDateTime::from_unix_timestamp_nanos(n).ok()
        }
    }

    impl AvroLocalDateTime for PrimitiveDateTime {
        fn to_local_nanos(&self) -> i128 {
            self.assume_utc().unix_timestamp_nanos()
        }
        fn from_local_nanos(n: i128) -> Option<Self> {
            let utc = OffsetDateTime::from_unix_timestamp_nanos(n).ok()?;
            Some(PrimitiveDateTime::new(utc.date(), utc.time()))
        }
    }

    impl AvroDate for Date {
        fn to_epoch_days(&self) -> i64 {
            i64::from(self.to_julian_day()) - UNIX_EPOCH_JULIAN_DAY
        }
        fn from_epoch_days(days: i64) -> Option<Self> {
            let julian = i32::try_from(days.checked_add(UNIX_EPOCH_JULIAN_DAY)?).ok()?;
            Date::from_julian_day(julian).ok()
        }
    }

    impl AvroTimeOfDay for Time {
        fn to_nanos_of_day(&self) -> Option<u64> {
            let (h, m, s, n) = self.as_hms_nano();
            Some(
                (u64::from(h) * 3600 + u64::from(m) * 60 + u64::from(s)) * 1_000_000_000
                    + u64::from(n),
            )
        }
        fn from_nanos_of_day(n: u64) -> Option<Self> {
            let secs = n / 1_000_000_000;
            Time::from_hms_nano(
                (secs / 3600) as u8,
                (secs / 60 % 60) as u8,
                (secs % 60) as u8,
                (n % 1_000_000_000) as u32,
            )
            .ok()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    fn ser<K, T: AvroTimeField<K>>(v: &T) -> serde_json::Value {
        v.serialize_avro(serde_json::value::Serializer).unwrap()
    }

    fn de<K, T: AvroTimeField<K>>(v: serde_json::Value) -> Result<T, serde_json::Error> {
        T::deserialize_avro(v)
    }

    #[test]
    fn system_time_before_the_epoch_truncates_towards_the_past() {
        let t = UNIX_EPOCH - Duration::from_micros(1_500);
        assert_eq!(ser::<kind::TimestampMillis, _>(&t), -2);
        assert_eq!(ser::<kind::TimestampMicros, _>(&t), -1_500);
        let back: SystemTime = de::<kind::TimestampMicros, _>((-1_500).into()).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn options_write_null_or_the_number() {
        let t = Some(UNIX_EPOCH + Duration::from_millis(5));
        assert_eq!(ser::<kind::TimestampMillis, _>(&t), 5);
        assert_eq!(
            ser::<kind::TimestampMillis, _>(&None::<SystemTime>),
            serde_json::Value::Null
        );
        let back: Option<SystemTime> =
            de::<kind::TimestampMillis, _>(serde_json::Value::Null).unwrap();
        assert_eq!(back, None);
    }

    #[cfg(feature = "chrono")]
    #[test]
    fn chrono_values_and_their_errors() {
        use chrono::{NaiveDate, NaiveTime};
        let d = NaiveDate::from_ymd_opt(1970, 1, 2).unwrap();
        assert_eq!(ser::<kind::Date, _>(&d), 1);
        let before = NaiveDate::from_ymd_opt(1969, 12, 31).unwrap();
        assert_eq!(ser::<kind::Date, _>(&before), -1);
        assert_eq!(de::<kind::Date, NaiveDate>((-1).into()).unwrap(), before);
        // Far beyond chrono's range of years.
        assert!(de::<kind::Date, NaiveDate>(i32::MAX.into()).is_err());
        // A leap second has no Avro time of day.
        let leap = NaiveTime::from_hms_milli_opt(23, 59, 59, 1_500).unwrap();
        assert_eq!(
            AvroTimeField::<kind::TimeMicros>::serialize_avro(&leap, serde_json::value::Serializer)
                .unwrap_err()
                .to_string(),
            "a leap second has no Avro time-of-day value"
        );
        assert!(de::<kind::TimeMillis, NaiveTime>(86_400_000.into()).is_err());
        assert!(de::<kind::TimeMicros, NaiveTime>((-1).into()).is_err());
    }

    #[cfg(feature = "time")]
    #[test]
    fn time_values_and_their_errors() {
        use time::{Date, Month, OffsetDateTime};
        let d = Date::from_calendar_date(2000, Month::January, 1).unwrap();
        assert_eq!(ser::<kind::Date, _>(&d), 10_957);
        assert_eq!(de::<kind::Date, Date>(10_957.into()).unwrap(), d);
        assert!(de::<kind::Date, Date>(i32::MIN.into()).is_err());
        assert!(de::<kind::TimestampMillis, OffsetDateTime>(i64::MAX.into()).is_err());
    }
}
