//! Allocator that keeps the send counters in memory and places messages one by one.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};

use super::counts::WindowCounts;
use super::identity::{RecordedSend, SendingIdentity, SendingIdentityId};
use super::request::{NoSlot, Placement, SendRequest, domain_key};
use super::settings::ThrottleSettings;
use super::window::date_index;
use crate::Channel;

/// Days searched ahead of a request's earliest time when it sets no latest time.
/// A year covers any backlog that workable caps can clear. A message that still
/// finds no slot shows caps far too low for the volume, which the caller should
/// report rather than schedule the send for next year.
pub const MAX_SEARCH_DAYS: i64 = 366;

/// Error in the allocator's input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThrottleError {
    #[error("sending identity {0} is listed twice: pass each identity once")]
    DuplicateIdentity(SendingIdentityId),
}

/// Places messages one by one on an account's sending identities.
///
/// Placing a message costs a few counter lookups per identity, averaged over a
/// campaign, because the counters skip runs of full hours and days. A campaign of
/// N messages therefore costs about O(N × identities).
#[derive(Debug, Clone)]
pub struct Allocator {
    settings: ThrottleSettings,
    /// Sorted by id, so that ties between identities go to the lowest id.
    identities: Vec<IdentityState>,
    /// Email sends per recipient domain, keyed by [`domain_key`].
    domains: HashMap<String, WindowCounts>,
}

#[derive(Debug, Clone)]
struct IdentityState {
    identity: SendingIdentity,
    /// Day index of warm-up day 1.
    start_day: i64,
    counts: WindowCounts,
}

impl Allocator {
    /// Creates an allocator from the account's identities and the sends already
    /// planned or made. Only sends in the UTC hours and days that new messages may
    /// use affect the result, so older ones can be left out.
    pub fn new(
        settings: ThrottleSettings,
        identities: Vec<SendingIdentity>,
        recorded: &[RecordedSend],
    ) -> Result<Self, ThrottleError> {
        let mut states: Vec<IdentityState> =
            identities.into_iter().map(IdentityState::new).collect();
        states.sort_by_key(|state| state.identity.id);
        if let Some(pair) = states
            .windows(2)
            .find(|pair| pair[0].identity.id == pair[1].identity.id)
        {
            return Err(ThrottleError::DuplicateIdentity(pair[0].identity.id));
        }

        let mut allocator = Self {
            settings,
            identities: states,
            domains: HashMap::new(),
        };
        for send in recorded {
            allocator.record(send);
        }
        Ok(allocator)
    }

    /// Counts a send made or planned outside this allocator. A send by an identity
    /// not given to [`Allocator::new`] still counts against its recipient domain.
    pub fn record(&mut self, send: &RecordedSend) {
        if let Ok(index) = self.position(send.identity) {
            self.identities[index].counts.record(send.at);
        }
        if let Some(key) = send.recipient_domain.as_deref().and_then(domain_key) {
            self.domains.entry(key).or_default().record(send.at);
        }
    }

    /// Chooses an identity and the earliest send time at or after
    /// `request.earliest` that keeps every cap, and counts the send.
    ///
    /// Among the identities that fit at that time, the one with the fewest sends
    /// on that UTC day wins, then the lowest id, so load spreads evenly.
    pub fn place(&mut self, request: &SendRequest) -> Result<Placement, NoSlot> {
        let domain = request_domain(request)?;
        self.check_channel(request.channel)?;
        let limit = search_limit(request)?;

        let (index, at) = self
            .choose(request.channel, domain.as_deref(), request.earliest, limit)
            .ok_or_else(|| no_fit(request))?;

        let state = &mut self.identities[index];
        state.counts.record(at);
        if let Some(key) = domain {
            self.domains.entry(key).or_default().record(at);
        }
        Ok(Placement {
            identity: state.identity.id,
            at,
        })
    }

    fn position(&self, id: SendingIdentityId) -> Result<usize, usize> {
        self.identities
            .binary_search_by_key(&id, |state| state.identity.id)
    }

    fn check_channel(&self, channel: Channel) -> Result<(), NoSlot> {
        let mut on_channel = self
            .identities
            .iter()
            .filter(|state| state.identity.channel == channel)
            .peekable();
        if on_channel.peek().is_none() {
            return Err(NoSlot::NoIdentityForChannel { channel });
        }
        if on_channel.all(|state| state.identity.paused) {
            return Err(NoSlot::AllPaused { channel });
        }
        Ok(())
    }

    /// Returns the index of the chosen identity and its send time, or `None` when
    /// no identity fits before `limit`.
    fn choose(
        &mut self,
        channel: Channel,
        domain: Option<&str>,
        earliest: DateTime<Utc>,
        limit: DateTime<Utc>,
    ) -> Option<(usize, DateTime<Utc>)> {
        let mut domain_counts = domain.map(|key| self.domains.entry(key.to_owned()).or_default());

        // The tuple order is the preference. The earliest time wins, then the
        // fewest sends that day, then the lowest index, which is the lowest id
        // because identities are sorted by id.
        let mut best: Option<(DateTime<Utc>, u32, usize)> = None;
        for (index, state) in self.identities.iter_mut().enumerate() {
            if state.identity.channel != channel || state.identity.paused {
                continue;
            }
            let counts = domain_counts.as_deref_mut();
            let Some(at) = state.earliest_fit(counts, &self.settings, earliest, limit) else {
                continue;
            };

            let candidate = (at, state.counts.day_count(at), index);
            if best.is_none_or(|current| candidate < current) {
                best = Some(candidate);
            }
        }
        best.map(|(at, _day_count, index)| (index, at))
    }
}

impl IdentityState {
    fn new(identity: SendingIdentity) -> Self {
        Self {
            start_day: date_index(identity.warm_up_start),
            identity,
            counts: WindowCounts::default(),
        }
    }

    /// Finds the first instant from `earliest` up to `limit` (exclusive) that fits
    /// this identity's caps and, for email, the recipient domain's caps.
    fn earliest_fit(
        &mut self,
        mut domain: Option<&mut WindowCounts>,
        settings: &ThrottleSettings,
        earliest: DateTime<Utc>,
        limit: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let hourly_cap = settings.hourly_cap(&self.identity);
        let daily_cap = |day: i64| settings.daily_cap_at_age(&self.identity, day - self.start_day);

        // Each side moves the time to its own next free hour or day. The time
        // fits once the identity accepts the instant at which the domain did.
        let mut at = earliest;
        loop {
            if let Some(counts) = domain.as_deref_mut() {
                let domain_daily_cap = settings.domain_daily_cap;
                at =
                    counts.next_fit(at, limit, settings.domain_hourly_cap, |_| domain_daily_cap)?;
            }
            let fit = self.counts.next_fit(at, limit, hourly_cap, daily_cap)?;
            if fit == at {
                return Some(at);
            }
            at = fit;
        }
    }
}

/// Returns the normalised recipient domain of an email request, or `None` for
/// SMS and WhatsApp, which have no domain caps.
fn request_domain(request: &SendRequest) -> Result<Option<String>, NoSlot> {
    if request.channel != Channel::Email {
        return Ok(None);
    }
    let key = request.recipient_domain.as_deref().and_then(domain_key);
    key.map(Some).ok_or(NoSlot::MissingRecipientDomain)
}

/// Returns the exclusive end of the search, which is the request's latest time
/// or else [`MAX_SEARCH_DAYS`] after its earliest time.
fn search_limit(request: &SendRequest) -> Result<DateTime<Utc>, NoSlot> {
    let earliest = request.earliest;
    match request.latest {
        Some(latest) if latest <= earliest => Err(NoSlot::EmptyRange { earliest, latest }),
        Some(latest) => Ok(latest),
        None => Ok(earliest
            .checked_add_signed(TimeDelta::days(MAX_SEARCH_DAYS))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)),
    }
}

fn no_fit(request: &SendRequest) -> NoSlot {
    let earliest = request.earliest;
    match request.latest {
        Some(latest) => NoSlot::CapsFull { earliest, latest },
        None => NoSlot::BeyondHorizon { earliest },
    }
}
