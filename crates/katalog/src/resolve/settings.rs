//! Reconciler settings: defaults, then the named profile, then what the entry declares.

use std::time::Duration;

use crate::model::{
    Backoff, CrdEntry, Profiles, ReconcilerProfile, ReconcilerSettings, Source, duration,
};

/// Built-in reconciler profiles (spec §20.3): (name, workers, resync).
pub const BUILT_IN_RECONCILER_PROFILES: &[(&str, u32, Duration)] = &[
    ("high-throughput", 10, Duration::from_secs(60)),
    ("conservative", 1, Duration::from_secs(300)),
    ("development", 1, Duration::from_secs(10)),
];

/// True when `name` is a reconciler profile (user or built-in).
pub fn is_reconciler_profile(profiles: &Profiles, name: &str) -> bool {
    profiles.reconciler.contains_key(name)
        || BUILT_IN_RECONCILER_PROFILES
            .iter()
            .any(|(n, _, _)| *n == name)
}

fn positive(value: i64) -> Option<u32> {
    u32::try_from(value).ok().filter(|v| *v > 0)
}

fn apply_profile(settings: &mut ReconcilerSettings, profile: &ReconcilerProfile) {
    if let Some(w) = profile.workers.and_then(positive) {
        settings.workers = w;
        settings.workers_source = Source::Profile;
    }
    if let Some(r) = profile
        .resync
        .as_deref()
        .and_then(|r| duration::parse(r).ok())
    {
        settings.resync = r;
    }
    if let Some(d) = profile.queue.as_ref().and_then(|q| q.max_depth.as_ref()) {
        settings.max_depth = u32::try_from(d.value).unwrap_or(0);
    }
}

/// The settings of one CRD entry (already normalized to the v0.7.17 layout).
pub fn settings(entry: &CrdEntry, profiles: &Profiles) -> ReconcilerSettings {
    let mut s = ReconcilerSettings::default();
    let reconciler = entry
        .operator_box
        .as_ref()
        .and_then(|b| b.reconciler.as_ref());
    if let Some(name) = reconciler.and_then(|r| r.profile.as_ref()) {
        if let Some(user) = profiles.reconciler.get(&name.value) {
            apply_profile(&mut s, user);
        } else if let Some((_, w, r)) = BUILT_IN_RECONCILER_PROFILES
            .iter()
            .find(|(n, _, _)| *n == name.value)
        {
            s.workers = *w;
            s.workers_source = Source::Profile;
            s.resync = *r;
        }
        s.profile = Some(name.value.clone());
    }
    let workers = reconciler
        .and_then(|r| r.workers.as_ref())
        .or(entry.workers.as_ref());
    if let Some(w) = workers.and_then(|w| positive(w.value)) {
        s.workers = w;
        s.workers_source = Source::Configured;
    }
    let resync = reconciler
        .and_then(|r| r.resync.as_ref())
        .or(entry.resync.as_ref());
    if let Some(r) = resync.and_then(|r| duration::parse(&r.value).ok())
        && !r.is_zero()
    {
        s.resync = r;
    }
    if let Some(r) = reconciler {
        s.default = r.default.unwrap_or(true);
        s.requeue = r.requeue.clone();
        if let Some(q) = &r.queue {
            s.shared_queue = q.shared.or(q.default).unwrap_or(false);
            if let Some(d) = &q.max_depth {
                s.max_depth = u32::try_from(d.value).unwrap_or(0);
            }
            s.behaviour = q.behaviour.as_ref().map(|b| b.value.clone());
            if let Some(t) = q
                .failure_threshold
                .as_ref()
                .or(q.degrade_threshold.as_ref())
                && let Some(t) = positive(t.value)
            {
                s.failure_threshold = t;
            }
            if let Some(b) = &q.retry_backoff {
                let mut retry = Backoff::default();
                if let Some(i) = b.initial.as_deref().and_then(|t| duration::parse(t).ok()) {
                    retry.initial = i;
                }
                if let Some(m) = b.max.as_deref().and_then(|t| duration::parse(t).ok()) {
                    retry.max = m;
                }
                if let Some(m) = b.multiplier.filter(|m| *m > 0.0) {
                    retry.multiplier = m;
                }
                if let Some(a) = b.max_attempts.and_then(|a| u32::try_from(a).ok()) {
                    retry.max_attempts = a;
                }
                s.retry = retry;
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::de::Spanned;
    use crate::model::{OperatorBox, Reconciler};

    #[test]
    fn defaults_apply_when_nothing_is_declared() {
        let s = settings(&CrdEntry::default(), &Profiles::default());
        assert_eq!(s.workers, crate::model::DEFAULT_WORKERS);
        assert_eq!(s.resync, crate::model::DEFAULT_RESYNC);
        assert_eq!(s.max_depth, 0);
        assert_eq!(s.workers_source, Source::Default);
    }

    #[test]
    fn declared_values_win_over_the_profile_which_wins_over_defaults() {
        let entry = CrdEntry {
            operator_box: Some(OperatorBox {
                reconciler: Some(Reconciler {
                    profile: Some(Spanned::new("conservative".into(), Default::default())),
                    resync: Some(Spanned::new("45s".into(), Default::default())),
                    ..Reconciler::default()
                }),
                ..OperatorBox::default()
            }),
            ..CrdEntry::default()
        };
        let s = settings(&entry, &Profiles::default());
        assert_eq!(s.workers, 1);
        assert_eq!(s.workers_source, Source::Profile);
        assert_eq!(s.resync, Duration::from_secs(45));
    }

    #[test]
    fn crd_level_workers_count_when_the_reconciler_has_none() {
        let entry = CrdEntry {
            workers: Some(Spanned::new(7, Default::default())),
            ..CrdEntry::default()
        };
        assert_eq!(settings(&entry, &Profiles::default()).workers, 7);
    }
}
