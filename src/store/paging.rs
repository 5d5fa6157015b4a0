//! Keyset paging, shared by every list: a page ends at the sort key `(created_at, id)` of
//! its last row, and the next one starts after it. No offsets: a page costs the same however
//! deep it is, and rows added meanwhile never shift what the next page holds.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

/// A list's order, by `(created_at, id)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Order {
    #[default]
    Asc,
    Desc,
}

/// Where a page ends: the sort key, `(created_at, id)`, of its last row. Clients see it
/// only as 48 opaque hex characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub(super) created_at: DateTime<Utc>,
    pub(super) id: Uuid,
}

impl Cursor {
    /// Before every row, in `order`: the ends of the timestamps PostgreSQL and chrono
    /// share, and the smallest or largest id.
    pub fn start(order: Order) -> Self {
        match order {
            Order::Asc => Self {
                created_at: earliest_timestamp(),
                id: Uuid::nil(),
            },
            Order::Desc => Self {
                created_at: DateTime::<Utc>::MAX_UTC,
                id: Uuid::max(),
            },
        }
    }

    pub(super) fn at(created_at: DateTime<Utc>, id: Uuid) -> Self {
        Self { created_at, id }
    }

    pub fn encode(&self) -> String {
        format!("{:016x}{}", self.created_at.timestamp_micros(), self.id.simple())
    }

    /// Any 48 hex characters (the pattern the spec publishes) is a cursor; a time outside
    /// what the database can compare is clamped to its ends rather than refused.
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() != 48 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let micros = u64::from_str_radix(&text[..16], 16).ok()? as i64;
        let created_at = DateTime::from_timestamp_micros(micros)
            .unwrap_or(if micros < 0 {
                DateTime::<Utc>::MIN_UTC
            } else {
                DateTime::<Utc>::MAX_UTC
            })
            .max(earliest_timestamp());
        Some(Self {
            created_at,
            id: Uuid::try_parse(&text[16..]).ok()?,
        })
    }
}

/// PostgreSQL's earliest timestamp, 4714-11-24 BC.
fn earliest_timestamp() -> DateTime<Utc> {
    let day = NaiveDate::from_ymd_opt(-4713, 11, 24).and_then(|d| d.and_hms_opt(0, 0, 0));
    day.expect("a valid date").and_utc()
}

/// One page of a list.
pub struct Page<T> {
    pub items: Vec<T>,
    /// Where the next page starts, if more rows follow.
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// A page of at most `limit` from `rows`, read with one row more than `limit` to learn
    /// whether others follow; `key` is a row's sort key.
    pub(super) fn of(mut rows: Vec<T>, limit: u32, key: impl Fn(&T) -> Cursor) -> Self {
        let next = (rows.len() > limit as usize).then(|| {
            rows.truncate(limit as usize);
            rows.last().map(&key)
        });
        Self {
            items: rows,
            next: next.flatten(),
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_anything_else() {
        let cursor = Cursor::at(
            DateTime::from_timestamp_micros(1_764_000_000_123_456).unwrap(),
            Uuid::max(),
        );
        assert_eq!(Cursor::parse(&cursor.encode()), Some(cursor));
        for bad in ["", "abc", &"g".repeat(48), &"0".repeat(47)] {
            assert_eq!(Cursor::parse(bad), None, "{bad:?}");
        }
        let far = Cursor::parse(&"f".repeat(48)).unwrap();
        assert!(far.created_at >= earliest_timestamp());
    }

    #[test]
    fn a_page_says_where_the_next_begins_only_when_one_does() {
        let key = |n: &u128| Cursor::at(DateTime::UNIX_EPOCH, Uuid::from_u128(*n));
        let full = Page::of(vec![1, 2, 3], 2, key);
        assert_eq!(full.items, vec![1, 2]);
        assert_eq!(full.next, Some(key(&2)));
        let last = Page::of(vec![1, 2], 2, key);
        assert_eq!((last.items.len(), last.next), (2, None));
    }
}
