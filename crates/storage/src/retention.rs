//! Retention over a set of immutable directories: which to delete so that
//! what is kept is young enough and small enough.
//!
//! The policy is the metrics TSDB's (and Prometheus's): first everything
//! whose newest data is older than the time limit, measured back from the
//! newest data the store holds (not from the wall clock, so a store that
//! stopped receiving data keeps it); then, oldest first, directories until
//! the total size is within the size limit. The caller deletes what
//! [`select`] returns, with [`crate::dir::remove`].

/// Limits; 0 turns either off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    /// Keep data at most this much older than the newest, in ms.
    pub time_ms: i64,
    /// Keep at most this many bytes, counting `other_bytes` of [`select`].
    pub size_bytes: u64,
}

/// What retention needs to know about one directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    /// One past its newest data, in ms.
    pub max_time: i64,
    /// Its bytes on disk.
    pub size_bytes: u64,
}

/// Indexes into `items` of the directories to delete, in the order they
/// were chosen. `newest` is the newest time the store holds (its head
/// included); `other_bytes` what else counts against the size limit (the
/// WAL), which retention cannot delete.
pub fn select(items: &[Item], policy: Policy, newest: i64, other_bytes: u64) -> Vec<usize> {
    let mut doomed: Vec<usize> = Vec::new();
    if policy.time_ms > 0 {
        let newest = items
            .iter()
            .map(|i| i.max_time)
            .chain(std::iter::once(newest))
            .max()
            .unwrap_or(i64::MIN);
        let cutoff = newest.saturating_sub(policy.time_ms);
        doomed.extend((0..items.len()).filter(|&i| items[i].max_time <= cutoff));
    }
    if policy.size_bytes > 0 {
        let kept_bytes: u64 = (0..items.len())
            .filter(|i| !doomed.contains(i))
            .map(|i| items[i].size_bytes)
            .sum();
        let mut total = other_bytes + kept_bytes;
        let mut by_age: Vec<usize> = (0..items.len()).filter(|i| !doomed.contains(i)).collect();
        by_age.sort_by_key(|&i| items[i].max_time);
        for i in by_age {
            if total <= policy.size_bytes {
                break;
            }
            total -= items[i].size_bytes;
            doomed.push(i);
        }
    }
    doomed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(v: &[(i64, u64)]) -> Vec<Item> {
        v.iter()
            .map(|&(max_time, size_bytes)| Item {
                max_time,
                size_bytes,
            })
            .collect()
    }

    #[test]
    fn time_limit_counts_back_from_the_newest_data() {
        let it = items(&[(100, 1), (200, 1), (300, 1)]);
        let p = Policy {
            time_ms: 150,
            size_bytes: 0,
        };
        // Newest is the head's 400: 100 and 200 are at or past 250.
        assert_eq!(select(&it, p, 400, 0), vec![0, 1]);
        // Without a head, the newest directory's end counts.
        assert_eq!(select(&it, p, i64::MIN, 0), vec![0]);
        assert!(select(&it, Policy::default(), 400, 0).is_empty());
    }

    #[test]
    fn size_limit_deletes_oldest_first_and_counts_other_bytes() {
        let it = items(&[(300, 10), (100, 10), (200, 10)]);
        let p = Policy {
            time_ms: 0,
            size_bytes: 25,
        };
        assert_eq!(select(&it, p, 0, 0), vec![1]);
        assert_eq!(select(&it, p, 0, 6), vec![1, 2]);
        // Both limits: time first, then size over what is left.
        let both = Policy {
            time_ms: 150,
            size_bytes: 15,
        };
        assert_eq!(select(&it, both, 300, 0), vec![1, 2]);
    }
}
