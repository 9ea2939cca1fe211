//! Send counts per UTC hour and day, with links that skip runs of full buckets.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::window::{day_index, day_start, hour_index, hour_start};

/// Send counts per bucket (an hour or a day index).
#[derive(Debug, Default, Clone)]
pub(super) struct BucketCounts {
    counts: HashMap<i64, u32>,
    /// `full_until[b] = c` records that every bucket from `b` up to `c`
    /// (exclusive) is full. Counts only grow and a bucket's cap never changes, so
    /// a full bucket stays full. The links are shortened as they are followed, as
    /// in a union-find, so a campaign that keeps searching past the same full days
    /// pays for each of them about once.
    full_until: HashMap<i64, i64>,
}

impl BucketCounts {
    pub(super) fn count(&self, bucket: i64) -> u32 {
        self.counts.get(&bucket).copied().unwrap_or(0)
    }

    pub(super) fn add(&mut self, bucket: i64) {
        *self.counts.entry(bucket).or_insert(0) += 1;
    }

    /// Finds the first bucket from `start` up to `end` (exclusive) whose count is
    /// below its cap, or returns `end` when there is none.
    pub(super) fn first_open(&mut self, start: i64, end: i64, cap: impl Fn(i64) -> u32) -> i64 {
        let mut bucket = self.skip_full(start);
        while bucket < end {
            if self.count(bucket) < cap(bucket) {
                return bucket;
            }
            self.full_until.insert(bucket, bucket + 1);
            bucket = self.skip_full(bucket + 1);
        }
        end
    }

    /// Follows the links from `start` to the first bucket not known to be full,
    /// then points every link on the way straight at it.
    fn skip_full(&mut self, start: i64) -> i64 {
        let mut target = start;
        while let Some(&next) = self.full_until.get(&target) {
            target = next;
        }

        // Every bucket before `target` on the path has a link, so `insert`
        // replaces one and returns the next bucket on the path.
        let mut bucket = start;
        while bucket != target {
            let Some(next) = self.full_until.insert(bucket, target) else {
                break;
            };
            bucket = next;
        }
        target
    }
}

/// Hour and day counts of one identity or one recipient domain.
#[derive(Debug, Default, Clone)]
pub(super) struct WindowCounts {
    hours: BucketCounts,
    days: BucketCounts,
}

impl WindowCounts {
    pub(super) fn record(&mut self, at: DateTime<Utc>) {
        self.hours.add(hour_index(at));
        self.days.add(day_index(at));
    }

    pub(super) fn day_count(&self, at: DateTime<Utc>) -> u32 {
        self.days.count(day_index(at))
    }

    /// Finds the first instant from `from` up to `limit` (exclusive) at which one
    /// more send keeps both the hour's and the day's count within their caps.
    /// `daily_cap` takes a day index, because warm-up makes it vary by day.
    pub(super) fn next_fit(
        &mut self,
        from: DateTime<Utc>,
        limit: DateTime<Utc>,
        hourly_cap: u32,
        daily_cap: impl Fn(i64) -> u32,
    ) -> Option<DateTime<Utc>> {
        let mut at = from;
        while at < limit {
            let day = day_index(at);
            let open_day = self.days.first_open(day, day_index(limit) + 1, &daily_cap);
            if open_day != day {
                at = day_start(open_day)?;
                continue;
            }

            // Moving to a later hour may cross into the next day, which the next
            // pass of the loop checks.
            let hour = hour_index(at);
            let open_hour = self
                .hours
                .first_open(hour, hour_index(limit) + 1, |_| hourly_cap);
            if open_hour == hour {
                return Some(at);
            }
            at = hour_start(open_hour)?;
        }
        None
    }
}
